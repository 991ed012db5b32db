package compare

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/canbao/canbao/internal/idcard"
	"github.com/canbao/canbao/internal/names"
)

// Link decisions need a clear winner: a name at least this close (a
// homophone or look-alike typo or better) ...
const linkScore = 0.8

// ... and ahead of the runner-up by this much; closer calls go to review.
const clearMargin = 0.15

// pending is a record the exact step could not link.
type pending struct {
	batchID   int64
	line      int
	id        string // normalized (or recovered) ID
	damage    string // idcard damage code; "ok" for a valid ID whose name disagrees
	name      string
	identName string // the person's name, for a valid ID
}

// candidate is a person a pending record may belong to.
type candidate struct {
	id    string
	score float64
}

// fuzzyLinks decides every record the exact step left: damaged IDs and
// valid IDs whose name disagrees with the person's. Each gets candidate
// persons (IDs one typo away, the first 15 digits of a spreadsheet-mangled
// number, or the same name when no ID is usable), scored by name.
func (r *run) fuzzyLinks(ctx context.Context) error {
	recs, err := r.pendingRecords(ctx)
	if err != nil {
		return err
	}
	known, err := loadKnown(ctx, r)
	if err != nil {
		return err
	}
	cands := make([][]string, len(recs))
	var byName []string
	for i, p := range recs {
		cands[i] = known.candidates(p)
		if p.name != "" && (p.damage == "ok" || len(cands[i]) == 0) {
			byName = append(byName, p.name)
		}
	}
	sameName, err := r.personsNamed(ctx, byName)
	if err != nil {
		return err
	}
	var ids []string
	for i, p := range recs {
		switch {
		case p.damage == "ok":
			// Another person of the record's name born on the ID's birth
			// date: an ID taken from a relative, say.
			for _, id := range sameName[p.name] {
				if id != p.id && id[6:14] == p.id[6:14] {
					cands[i] = append(cands[i], id)
				}
			}
		case len(cands[i]) == 0:
			cands[i] = sameName[p.name]
		}
		ids = append(ids, cands[i]...)
	}
	identNames, err := r.namesOf(ctx, ids)
	if err != nil {
		return err
	}
	links, err := newSpool()
	if err != nil {
		return err
	}
	defer links.close()
	reviews, err := newSpool()
	if err != nil {
		return err
	}
	defer reviews.close()
	for i, p := range recs {
		r.decide(p, cands[i], identNames, links, reviews)
	}
	if err := r.exec(ctx, `CREATE UNLOGGED TABLE cmp_fuzzy (batch_id bigint, line integer, id_number text, method text,
		name_diff boolean, reason text)`); err != nil {
		return err
	}
	if err := links.copyTo(ctx, r.tx, "cmp_fuzzy (batch_id, line, id_number, method, name_diff, reason)"); err != nil {
		return err
	}
	if err := r.exec(ctx, fmt.Sprintf(`
		UPDATE %s l SET id_number = f.id_number, method = f.method, name_diff = f.name_diff, reason = f.reason
		FROM cmp_fuzzy f WHERE l.batch_id = f.batch_id AND l.line = f.line`, r.links)); err != nil {
		return err
	}
	return reviews.copyTo(ctx, r.tx, "run_review (run_id, batch_id, line, candidates, scores)")
}

// decide links, queues for review, or leaves a record unmatched.
func (r *run) decide(p pending, ids []string, identNames map[string]string, links, reviews *spool) {
	key := []string{strconv.FormatInt(p.batchID, 10), strconv.Itoa(p.line)}
	if len(ids) == 0 {
		links.write(append(key, `\N`, "unmatched", "f", unmatchedReason(p))...)
		return
	}
	cs := make([]candidate, len(ids))
	for i, id := range ids {
		cs[i] = candidate{id: id, score: nameScore(p.name, identNames[id])}
	}
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].score > cs[j].score })
	best := cs[0]
	clear := best.score >= linkScore && (len(cs) == 1 || best.score-cs[1].score >= clearMargin)
	if p.damage == "ok" && len(cs) > 1 && cs[1].id == p.id && cs[1].score >= linkScore && best.score-cs[1].score < clearMargin {
		clear = false // the record's own valid ID is about as good: a person must decide
	}
	if clear {
		method := "fuzzy"
		if p.damage == "ok" && best.id == p.id {
			method = "exact"
		} else if p.damage != "ok" && !usableDamage(p.damage) {
			method = "name"
		}
		diff := p.name != "" && names.Compare(p.name, identNames[best.id]) != names.Same
		links.write(append(key, best.id, method, pgBool(diff), "")...)
		return
	}
	links.write(append(key, `\N`, "review", "f", "候选人员相近，待人工审核")...)
	var idList, scoreList []string
	for _, c := range cs {
		idList = append(idList, c.id)
		scoreList = append(scoreList, strconv.FormatFloat(c.score, 'f', 2, 64))
	}
	reviews.write(strconv.FormatInt(r.id, 10), key[0], key[1], "{"+strings.Join(idList, ",")+"}", "{"+strings.Join(scoreList, ",")+"}")
}

// nameScore ranks a candidate; a record without a name neither helps nor
// hurts its candidates.
func nameScore(recName, personName string) float64 {
	if recName == "" {
		return linkScore
	}
	return names.Score(recName, personName)
}

func usableDamage(code string) bool {
	return code == "check" || code == "date" || code == "mangled"
}

func unmatchedReason(p pending) string {
	switch {
	case p.damage == "blank" && p.name == "":
		return "无身份证号码和姓名"
	case p.damage == "blank":
		return "无身份证号码，且没有唯一的同名人员"
	case p.damage == "ok":
		return "姓名与身份证号码对应人员不符，且无其他候选"
	}
	return "身份证号码有误（" + damageLabel(p.damage) + "），未找到可能的人员"
}

func damageLabel(code string) string {
	if d, ok := idcard.ParseDamageCode(code); ok {
		return d.String()
	}
	return code
}

// pendingRecords are the current batches' records not linked yet.
func (r *run) pendingRecords(ctx context.Context) ([]pending, error) {
	q := fmt.Sprintf(`
		SELECT l.batch_id, l.line, coalesce(l.id_norm, ''), coalesce(l.id_damage, 'ok'), coalesce(l.name, ''), coalesce(i.name, '')
		FROM %s l
		LEFT JOIN cmp_ident i ON i.id_number = l.id_norm AND l.id_damage IS NULL
		WHERE l.method = 'pending'`, r.links)
	rows, err := r.tx.Query(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("pending records: %w", err)
	}
	defer rows.Close()
	var out []pending
	for rows.Next() {
		var p pending
		if err := rows.Scan(&p.batchID, &p.line, &p.id, &p.damage, &p.name, &p.identName); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// personsNamed maps each of names to the persons of the run bearing it.
func (r *run) personsNamed(ctx context.Context, ns []string) (map[string][]string, error) {
	out := map[string][]string{}
	if len(ns) == 0 {
		return out, nil
	}
	rows, err := r.tx.Query(ctx, `SELECT name, id_number FROM cmp_ident WHERE name = ANY($1) ORDER BY id_number`, ns)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var n, id string
		if err := rows.Scan(&n, &id); err != nil {
			return nil, err
		}
		out[n] = append(out[n], id)
	}
	return out, rows.Err()
}

// namesOf returns the identity names of the given persons.
func (r *run) namesOf(ctx context.Context, ids []string) (map[string]string, error) {
	out := map[string]string{}
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := r.tx.Query(ctx, `SELECT id_number, name FROM cmp_ident WHERE id_number = ANY($1)`, ids)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id, n string
		if err := rows.Scan(&id, &n); err != nil {
			return nil, err
		}
		out[id] = n
	}
	return out, rows.Err()
}
