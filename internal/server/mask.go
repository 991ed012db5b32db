package server

import (
	"regexp"
	"strings"

	"github.com/canbao/canbao/internal/idcard"
	"github.com/canbao/canbao/internal/imports"
	"github.com/canbao/canbao/web"
)

// maskID hides the middle of an ID number in lists; only a person's own
// page (audited) shows it whole.
func maskID(id string) string { return idcard.Mask(id) }

func recordRow(r imports.Record) web.RecordRow {
	row := web.RecordRow{Line: r.Line, ID: maskID(r.IDNorm), Damaged: r.IDDamage != "ok", Name: r.Name, Sex: r.Sex,
		Region: r.RegionCode, Scheme: r.Scheme}
	if d, ok := idcard.ParseDamageCode(r.IDDamage); ok && d != idcard.OK {
		row.Damage = d.String()
	}
	if r.Birth != nil {
		row.Birth = r.Birth.Format("2006-01-02")
	}
	return row
}

// phoneLike is a mainland mobile number (optionally +86) or a landline
// with its area code; idLike (client.go) an ID number.
var phoneLike = regexp.MustCompile(`(?:\+?86[- ]?)?1[3-9][0-9]{9}|0[1-9][0-9]{1,2}-?[0-9]{7,8}`)

// maskPhone keeps the first three and last four digits of a phone number.
func maskPhone(p string) string {
	r := []rune(p)
	digits := 0
	for _, c := range r {
		if c >= '0' && c <= '9' {
			digits++
		}
	}
	seen := 0
	for i, c := range r {
		if c >= '0' && c <= '9' {
			seen++
			if seen > 3 && seen <= digits-4 {
				r[i] = '*'
			}
		}
	}
	return string(r)
}

// maskCell masks what a record's other cells may hold of personal
// contact data: a column named for a phone is masked whole, and phone or
// ID numbers inside any cell (an address with a mobile number, a
// guardian's ID in a remark) are masked where they appear.
func maskCell(header, value string) string {
	if value == "" {
		return value
	}
	for _, k := range []string{"电话", "手机", "联系方式", "联系号码"} {
		if strings.Contains(header, k) {
			return maskPhone(value)
		}
	}
	value = idLike.ReplaceAllStringFunc(value, maskID)
	return phoneLike.ReplaceAllStringFunc(value, maskPhone)
}
