package server

import (
	"net/http"

	"github.com/canbao/canbao/internal/apperr"
	"github.com/canbao/canbao/internal/auth"
	"github.com/canbao/canbao/internal/compare"
)

// mayExportPersonal refuses downloads of personal data to roles that read
// aggregates only.
func mayExportPersonal(r *http.Request) error {
	if me, _ := currentUser(r); !me.CanExportPersonal() {
		return apperr.Forbiddenf("%s只能查看汇总数据，不能下载含个人信息的明细", me.Role.Label())
	}
	return nil
}

// visibleCandidates are the indexes of the review candidates inside the
// viewer's region: a township clerk reviewing a record of their township
// does not see persons of other townships. The indexes are kept, since a
// decision names its candidate by index.
func visibleCandidates(me auth.User, list []compare.Candidate) []int {
	var out []int
	for i, c := range list {
		if me.Sees(c.RegionCode) {
			out = append(out, i)
		}
	}
	return out
}
