package indicator

import (
	"strconv"
	"strings"

	"github.com/canbao/canbao/internal/compare"
)

// args collects a query's parameters and names them $n.
type args []any

func (a *args) add(v any) string {
	*a = append(*a, v)
	return "$" + strconv.Itoa(len(*a))
}

// facts is one row per person and source with a boolean per part: the one
// place each part's predicate is written. Counting a part is counting its
// rows where the part's column is true, and its list is those rows; so a
// figure and its list cannot disagree. It returns the SQL (a UNION ALL, to
// wrap as a subquery) and its parameters.
func (s Scope) facts() (string, []any) {
	parts, a := s.factBranches()
	return strings.Join(parts, "\nUNION ALL\n"), a
}

// factBranches are the facts query's parts, one per source (and one with
// no rows), which UNION ALL joins into the facts.
func (s Scope) factBranches() ([]string, []any) {
	var a args
	// Casts name each parameter's type: some go unused when a scope has
	// no run or no round.
	region := a.add(s.Region) + "::text"
	end := a.add(s.Day) + "::date"
	rounds := a.add(s.Rounds()) + "::bigint[]"
	infoErr := a.add(int32(compare.FlagInfoError)) + "::integer"
	insured := a.add(compare.Insured) + "::text"
	notInsured := a.add(compare.NotInsured) + "::text"
	var roundPatterns []string
	for _, r := range s.rounds {
		roundPatterns = append(roundPatterns, r.Region+"%")
	}
	covered := a.add(nonNil(roundPatterns)) + "::text[]"
	bound := "(" + end + "::date + 1)::timestamptz"
	p := params{region: region, bound: bound, rounds: rounds, infoErr: infoErr, insured: insured,
		notInsured: notInsured, covered: covered, day: end, roundCount: len(s.rounds)}

	var parts []string
	for _, r := range s.runs {
		parts = append(parts, p.runFacts(&a, r))
	}
	for _, r := range s.rounds {
		parts = append(parts, p.roundFacts(&a, r))
		if r.Baseline != 0 {
			parts = append(parts, p.expansionFacts(&a, r))
		}
	}
	// A branch with no rows names every shared parameter, so a scope with
	// no run or no round leaves none untyped, and gives the columns when
	// there is no source at all.
	parts = append(parts, `SELECT NULL::text COLLATE "C" AS id_number, NULL::text COLLATE "C" AS name, NULL::text COLLATE "C" AS region_code, `+
		falses(len(Parts), Parts)+`, NULL::text AS reason, NULL::text AS age_band, NULL::text AS sex, NULL::text AS scheme
		WHERE false AND `+strings.Join([]string{region, end, rounds, infoErr, insured, notInsured, covered}, " IS NULL AND ")+` IS NULL`)
	return parts, a
}

type params struct {
	region, bound, rounds, infoErr, insured, notInsured, covered, day string
	roundCount                                                        int
}

// falses is "false AS p" for each part.
func falses(n int, ps []Part) string {
	cols := make([]string, n)
	for i := range n {
		cols[i] = "false AS " + string(ps[i])
	}
	return strings.Join(cols, ", ")
}

// member is a person's membership of the current rounds (the newest when
// in two): their flags as listed and whether their live form is approved
// (as of the day), with its 未参保原因.
func (p params) member() string {
	// One round lists a person at most once; only several need the newest.
	distinct := ""
	if p.roundCount > 1 {
		distinct = "DISTINCT ON (sm.id_number) "
	}
	order := ""
	if p.roundCount > 1 {
		order = "\n\t\tORDER BY sm.id_number, sm.round_id DESC"
	}
	return `(SELECT ` + distinct + `sm.id_number, sm.flags,
			coalesce(f.state = 'approved' AND coalesce(f.reviewed_at, f.updated_at) < ` + p.bound + `, false) AS confirmed,
			f.reason
		FROM survey_member sm
		LEFT JOIN survey_form f ON f.member_id = sm.id AND f.state <> 'superseded'
		WHERE sm.round_id = ANY (` + p.rounds + `)` + order + `)`
}

// notInsuredDims are the statistics' dimensions of a not-insured person:
// 未参保原因 from their approved form, age band on the day and sex (both
// from the ID number), and which schemes they lack.
func (p params) notInsuredDims(notInsured, id, pension, medical, reason string) string {
	birth := `CASE WHEN ` + id + ` ~ '^[0-9]{17}[0-9X]$' THEN to_date(substr(` + id + `, 7, 8), 'YYYYMMDD') END`
	// The age is worked out once; width_bucket finds its band (NULL, and
	// so 出生日期不详, when the ID holds no birth date).
	age := `extract(year FROM age(` + p.day + `, ` + birth + `))`
	return `CASE WHEN ` + notInsured + ` THEN coalesce(nullif(` + reason + `, ''), '` + ReasonUnknown + `') END AS reason,
		CASE WHEN ` + notInsured + ` THEN coalesce((ARRAY['16岁以下', '16–29岁', '30–39岁', '40–49岁', '50–59岁', '60岁及以上'])
			[width_bucket(` + age + `, ARRAY[16, 30, 40, 50, 60]::numeric[]) + 1], '` + AgeUnknown + `') END AS age_band,
		CASE WHEN ` + notInsured + ` THEN CASE WHEN substr(` + id + `, 17, 1) ~ '^[13579]$' THEN '男'
			WHEN substr(` + id + `, 17, 1) ~ '^[02468]$' THEN '女' ELSE '未知' END END AS sex,
		CASE WHEN ` + notInsured + ` THEN CASE WHEN ` + pension + ` = ` + p.notInsured + ` AND ` + medical + ` = ` + p.notInsured + ` THEN '` + SchemeBoth + `'
			WHEN ` + pension + ` = ` + p.notInsured + ` THEN '` + SchemePension + `' ELSE '` + SchemeMedical + `' END END AS scheme`
}

// runFacts are the persons of a current run in the scope's region, but not
// in the regions newer runs took over.
func (p params) runFacts(a *args, r runSource) string {
	run := a.add(r.ID)
	exclude := a.add(nonNil(r.Exclude))
	internal := a.add(r.Internal)
	cross := a.add(r.Cross)
	infoErr := `rp.flags & ` + p.infoErr + ` <> 0`
	notInsured := `(rp.in_universe AND (rp.pension = ` + p.notInsured + ` OR rp.medical = ` + p.notInsured + `))`
	return `SELECT rp.id_number COLLATE "C" AS id_number, rp.name COLLATE "C" AS name, rp.region_code COLLATE "C" AS region_code,
		rp.in_universe AS population,
		rp.in_universe AND (NOT rp.survey OR coalesce(m.confirmed, false)) AND pe.id_number IS NOT NULL AS registered,
		rp.survey AND NOT (rp.region_code LIKE ANY (` + p.covered + `)) AS to_survey,
		false AS visited, false AS confirmed,
		rp.in_universe AND ` + infoErr + ` AS errors_found,
		rp.in_universe AND ` + infoErr + ` AND coalesce(m.confirmed AND m.flags & ` + p.infoErr + ` <> 0, false) AS corrected,
		false AS expansion_base, false AS expanded,
		rp.in_universe AND ` + internal + ` AS internal_compared,
		rp.in_universe AND ` + cross + ` AS cross_compared,
		` + notInsured + ` AS not_insured,
		` + p.notInsuredDims(notInsured, "rp.id_number", "rp.pension", "rp.medical", "CASE WHEN m.confirmed THEN m.reason END") + `
	FROM run_persons(` + run + `) rp
	LEFT JOIN ` + p.member() + ` m ON m.id_number = rp.id_number
	-- person's key is in the database's collation, run_persons' in C: the
	-- join names the collation so the two compare (and hash) alike.
	LEFT JOIN person pe ON pe.id_number = rp.id_number COLLATE "default"
	WHERE rp.region_code LIKE ` + p.region + ` || '%'
	  AND NOT (rp.region_code LIKE ANY (` + exclude + `))`
}

// roundFacts are the target members of a current round, placed by their
// household, in the scope's region but not in regions newer rounds took
// over.
func (p params) roundFacts(a *args, r roundSource) string {
	round := a.add(r.ID)
	exclude := a.add(nonNil(r.Exclude))
	return `SELECT sm.id_number COLLATE "C", sm.name COLLATE "C", h.region_code COLLATE "C",
		false AS population, false AS registered,
		true AS to_survey,
		coalesce(f.state IN ('submitted', 'approved', 'returned') AND coalesce(f.submitted_at, f.created_at) < ` + p.bound + `, false) AS visited,
		coalesce(f.state = 'approved' AND coalesce(f.reviewed_at, f.updated_at) < ` + p.bound + `, false) AS confirmed,
		false AS errors_found, false AS corrected, false AS expansion_base, false AS expanded,
		false AS internal_compared, false AS cross_compared, false AS not_insured,
		NULL::text AS reason, NULL::text AS age_band, NULL::text AS sex, NULL::text AS scheme
	FROM survey_member sm
	JOIN survey_household h ON h.id = sm.household_id
	LEFT JOIN survey_form f ON f.member_id = sm.id AND f.state <> 'superseded'
	WHERE sm.round_id = ` + round + ` AND sm.target
	  AND h.region_code LIKE ` + p.region + ` || '%' AND NOT (h.region_code LIKE ANY (` + exclude + `))`
}

// expansionFacts are the persons 应参未参 in the run a current round was
// published from, in the round's region (and the scope's), with whether the
// current run covering the round's region has them 已参保 in each scheme
// they lacked.
func (p params) expansionFacts(a *args, r roundSource) string {
	base := a.add(r.Baseline)
	cur := a.add(r.Current)
	roundRegion := a.add(r.Region)
	exclude := a.add(nonNil(r.Exclude))
	ni := p.notInsured
	return `SELECT b.id_number COLLATE "C", b.name COLLATE "C", b.region_code COLLATE "C",
		false AS population, false AS registered, false AS to_survey, false AS visited, false AS confirmed,
		false AS errors_found, false AS corrected,
		true AS expansion_base,
		coalesce((b.pension <> ` + ni + ` OR c.pension = ` + p.insured + `) AND (b.medical <> ` + ni + ` OR c.medical = ` + p.insured + `), false) AS expanded,
		false AS internal_compared, false AS cross_compared, false AS not_insured,
		NULL::text AS reason, NULL::text AS age_band, NULL::text AS sex, NULL::text AS scheme
	FROM run_persons(` + base + `) b
	LEFT JOIN run_persons(` + cur + `) c ON c.id_number = b.id_number
	WHERE (b.pension = ` + ni + ` OR b.medical = ` + ni + `)
	  AND b.region_code LIKE ` + p.region + ` || '%' AND b.region_code LIKE ` + roundRegion + ` || '%'
	  AND NOT (b.region_code LIKE ANY (` + exclude + `))`
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// Buckets of the statistics' dimensions that are not data values.
const (
	ReasonUnknown = "未调查或未审核" // no approved survey form yet
	AgeUnknown    = "出生日期不详"
	SchemeBoth    = "养老、医疗均未参保"
	SchemePension = "养老未参保"
	SchemeMedical = "医疗未参保"
)

// Dimensions of the statistics of the not insured.
const (
	DimReason = "reason"
	DimAge    = "age_band"
	DimSex    = "sex"
	DimScheme = "scheme"
)

// Dims lists the dimensions with their Chinese names.
var Dims = []struct{ Key, Label string }{
	{DimReason, "未参保原因"}, {DimAge, "年龄段"}, {DimSex, "性别"}, {DimScheme, "险种"},
}
