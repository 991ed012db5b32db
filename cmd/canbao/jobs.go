package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/canbao/canbao/internal/job"
)

// foreground runs a job in this process the way the server's runner does,
// recording it (so the web shows CLI-run jobs too) and drawing its progress
// line on a terminal. Ctrl-C interrupts it.
func foreground(ctx context.Context, pool *pgxpool.Pool, spec job.Spec) (job.Job, error) {
	r := job.NewRunner(pool, slog.Default(), 1)
	if err := r.Start(ctx); err != nil {
		return job.Job{}, err
	}
	defer r.Stop()
	show := progressLine(spec.Title)
	j, err := r.Run(ctx, spec, show)
	if show != nil {
		fmt.Fprint(os.Stderr, "\r\033[K")
	}
	return j, err
}

// progressLine draws a job's progress on one terminal line; nil when
// stderr is not a terminal.
func progressLine(title string) func(job.Status) {
	if !isTerminal(os.Stderr) {
		return nil
	}
	start := time.Now()
	return func(st job.Status) {
		line := title + "：" + st.Message
		if st.Unit != "" {
			rate := float64(st.Done) / max(time.Since(start).Seconds(), 0.001)
			line += fmt.Sprintf("，已处理 %d %s（%.0f %s/秒）", st.Done, st.Unit, rate, st.Unit)
		}
		if st.Total > 0 {
			line += fmt.Sprintf(" %d%%", min(99, 100*st.Done/st.Total))
		}
		fmt.Fprintf(os.Stderr, "\r\033[K%s", line)
	}
}

func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
