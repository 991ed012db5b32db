package imports

import (
	"context"
	"fmt"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/apperr"
	"github.com/canbao/canbao/internal/job"
	"github.com/canbao/canbao/internal/sheet"
)

// Job is the import of req by a as a job, for the web's runner and the CLI's
// foreground alike: it reports rows read against total (an estimate, 0 when
// unknown) and leaves the result in out when out is not nil.
func (im *Importer) Job(a actor.Actor, req Request, total int64, out *Result) job.Spec {
	return job.Spec{Kind: job.KindImport, Region: req.Region, UserID: a.UserID, UserName: a.Username, Title: fileName(req),
		Run: func(ctx context.Context, p *job.Progress) (int64, error) {
			prog := &Progress{}
			p.Follow(func() job.Status {
				st := job.Status{Done: prog.Rows.Load(), Total: total, Unit: "行", Message: "正在读取并校验"}
				if total > 0 {
					// An estimate must not claim the end before the end.
					st.Total = max(total, st.Done+st.Done/100+1)
				}
				return st
			})
			res, err := im.Import(ctx, a, req, prog)
			if out != nil {
				*out = res
			}
			if err == nil {
				p.Follow(nil)
				p.Set(job.Status{Done: int64(res.Read), Total: int64(res.Read), Unit: "行", Message: "完成"})
			}
			if err == nil && im.then != nil {
				if ferr := im.then(ctx, a, res, p); ferr != nil {
					return res.BatchID, &apperr.Error{Kind: apperr.KindOf(ferr), Err: ferr,
						Msg: fmt.Sprintf("批次 #%d 已导入，但后续处理（推导与旧数据相比的变化）失败：%s", res.BatchID, apperr.Message(ferr))}
				}
			}
			return res.BatchID, err
		}}
}

// EstimateRows guesses how many rows a CSV file of size bytes holds from
// the preview rows' average size; 0 when it cannot tell (a workbook's size
// says little about its rows).
func (p Preview) EstimateRows(size int64) int64 {
	if p.Format != sheet.CSV || size <= 0 {
		return 0
	}
	var bytes, n int
	for _, row := range p.Rows {
		for _, c := range row {
			bytes += len(c) + 1
		}
		n++
	}
	if n == 0 || bytes == 0 {
		return 0
	}
	return int64(float64(size) / (float64(bytes) / float64(n)))
}
