package sheet

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"strings"
)

// delimiters are the separators we recognise, in order of preference on a tie.
var delimiters = [...]byte{',', '\t', ';', '|'}

// csvRows reads CSV records; see Rows for the line-number semantics.
type csvRows struct {
	f       *os.File
	r       *csv.Reader
	rec     []string
	line    int // Excel row of the current record
	endLine int // physical line on which the previous record ended
	err     error
}

// openCSV opens path as text, sniffs the delimiter and prepares the reader.
func openCSV(path string) (*csvRows, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("无法打开文件：%w", err)
	}
	br := bufio.NewReaderSize(newTextReader(f), sniffSize)
	sample, err := br.Peek(sniffSize)
	if err != nil && err != io.EOF {
		_ = f.Close()
		return nil, fmt.Errorf("无法读取文件：%w", err)
	}
	r := csv.NewReader(br)
	r.Comma = rune(sniffDelimiter(sample, err == io.EOF))
	r.ReuseRecord = true
	r.LazyQuotes = true
	r.FieldsPerRecord = -1
	return &csvRows{f: f, r: r}, nil
}

// Next reads records until one has a non-blank cell.
func (c *csvRows) Next() bool {
	for c.err == nil {
		rec, err := c.r.Read()
		if err == io.EOF {
			return false
		}
		if err != nil {
			c.err = fmt.Errorf("CSV 文件第 %d 行附近格式错误：%w", c.line+1, err)
			return false
		}
		c.track(rec)
		if trimAll(rec) {
			c.rec = rec
			return true
		}
	}
	return false
}

// track advances the Excel row number. encoding/csv silently skips blank
// lines and a quoted cell may span lines, so the row is derived from where the
// record starts and where the previous one ended: each skipped blank line is
// an (empty) row in Excel, each line inside a quoted cell is not.
func (c *csvRows) track(rec []string) {
	start, _ := c.r.FieldPos(0)
	last := len(rec) - 1
	lastLine, _ := c.r.FieldPos(last)
	c.line += start - c.endLine
	c.endLine = lastLine + strings.Count(rec[last], "\n")
}

// Values returns the current record; the slice is reused by Next.
func (c *csvRows) Values() []string { return c.rec }

// Line returns the Excel row number of the current record.
func (c *csvRows) Line() int { return c.line }

// Sheet is empty: CSV has no worksheets.
func (c *csvRows) Sheet() string { return "" }

// Err returns the read error, if any.
func (c *csvRows) Err() error { return c.err }

// Close closes the file; a second call is a no-op.
func (c *csvRows) Close() error {
	if c.f == nil {
		return nil
	}
	err := c.f.Close()
	c.f = nil
	return err
}

// trimAll trims every cell in place and reports whether any is non-blank.
func trimAll(rec []string) bool {
	found := false
	for i, v := range rec {
		v = strings.TrimSpace(v)
		rec[i] = v
		found = found || v != ""
	}
	return found
}

// sniffDelimiter picks the delimiter whose per-line count is most consistent
// over the first lines (title rows above the header have none, so consistency
// beats totals), preferring more columns, then the order of delimiters.
func sniffDelimiter(sample []byte, atEOF bool) byte {
	lines := sampleLines(sample, atEOF, 30)
	best, bestScore := delimiters[0], 0
	for _, d := range delimiters {
		if s := delimiterScore(lines, d); s > bestScore {
			best, bestScore = d, s
		}
	}
	return best
}

// sampleLines splits the sample into at most max complete, non-blank lines.
func sampleLines(sample []byte, atEOF bool, max int) [][]byte {
	if i := bytes.LastIndexByte(sample, '\n'); !atEOF && i >= 0 {
		sample = sample[:i]
	}
	var lines [][]byte
	for len(sample) > 0 && len(lines) < max {
		line, rest, _ := bytes.Cut(sample, []byte{'\n'})
		if len(bytes.TrimSpace(line)) > 0 {
			lines = append(lines, line)
		}
		sample = rest
	}
	return lines
}

// delimiterScore is (lines sharing the most common non-zero count) weighted
// above that count itself.
func delimiterScore(lines [][]byte, d byte) int {
	freq := map[int]int{}
	for _, l := range lines {
		if n := countOutsideQuotes(l, d); n > 0 {
			freq[n]++
		}
	}
	score := 0
	for n, f := range freq {
		score = max(score, f*1000+min(n, 999))
	}
	return score
}

// countOutsideQuotes counts d in line, ignoring occurrences inside "quotes".
func countOutsideQuotes(line []byte, d byte) int {
	n, quoted := 0, false
	for _, c := range line {
		switch {
		case c == '"':
			quoted = !quoted
		case c == d && !quoted:
			n++
		}
	}
	return n
}
