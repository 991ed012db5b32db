package server

import (
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
