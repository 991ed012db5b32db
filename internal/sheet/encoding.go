package sheet

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"

	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// Encoding names reported by Encoding.
const (
	EncUTF8    = "UTF-8"     // UTF-8 without a BOM, also pure ASCII
	EncUTF8BOM = "UTF-8 BOM" // UTF-8 with a byte order mark (Excel's "CSV UTF-8")
	EncGB18030 = "GB18030"   // GBK/GB2312/GB18030, Excel's default CSV on Chinese Windows
	EncUTF16LE = "UTF-16LE"  // Excel's "Unicode text", little endian with BOM
	EncUTF16BE = "UTF-16BE"  // UTF-16 big endian with BOM
)

// Encoding returns the text encoding of a CSV file for display: "UTF-8",
// "UTF-8 BOM", "GB18030", or "UTF-16LE"/"UTF-16BE" (Excel's "Unicode text").
// An .xlsx file returns "" (it is always Unicode). Pure-ASCII files are "UTF-8".
func Encoding(path string) (string, error) {
	format, err := Detect(path)
	if err != nil || format != CSV {
		return "", err
	}
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("无法打开文件：%w", err)
	}
	defer func() { _ = f.Close() }()
	t := newTextReader(f)
	// Undecided means ASCII so far: read on until the first non-ASCII byte
	// decides, exactly as the CSV reader would.
	buf := make([]byte, sniffSize)
	for t.enc == "" && err == nil {
		_, err = t.Read(buf)
	}
	if err != nil && err != io.EOF {
		return "", fmt.Errorf("无法读取文件：%w", err)
	}
	if t.enc == "" {
		return EncUTF8, nil
	}
	return t.enc, nil
}

// textReader yields the content of a text file as UTF-8. A BOM decides the
// encoding at once. Without one, the choice between UTF-8 and GB18030 is put
// off until the first non-ASCII byte, which is then judged on the 64 KiB that
// follow it: ASCII is the same in both, so an export whose first thousand
// lines are digits and Latin letters still decodes correctly later.
type textReader struct {
	br  *bufio.Reader
	out io.Reader // set once the encoding is known
	enc string
}

// newTextReader wraps r; it consumes a UTF-8 BOM if there is one.
func newTextReader(r io.Reader) *textReader {
	t := &textReader{br: bufio.NewReaderSize(r, 2*sniffSize)}
	head, _ := t.br.Peek(3)
	switch {
	case bytes.HasPrefix(head, bomUTF8):
		_, _ = t.br.Discard(3)
		t.enc, t.out = EncUTF8BOM, t.br
	case bytes.HasPrefix(head, bomLE16):
		t.enc = EncUTF16LE
		t.out = transform.NewReader(t.br, unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM).NewDecoder())
	case bytes.HasPrefix(head, bomBE16):
		t.enc = EncUTF16BE
		t.out = transform.NewReader(t.br, unicode.UTF16(unicode.BigEndian, unicode.ExpectBOM).NewDecoder())
	}
	return t
}

// Read passes ASCII through until the first non-ASCII byte, decides the
// encoding there, and from then on reads through the chosen decoder.
func (t *textReader) Read(p []byte) (int, error) {
	if t.out != nil {
		return t.out.Read(p)
	}
	if len(p) == 0 {
		return 0, nil
	}
	b, err := t.br.Peek(min(len(p), t.br.Size()))
	if len(b) == 0 {
		return 0, err
	}
	if i := firstNonASCII(b); i > 0 || i < 0 {
		if i < 0 {
			i = len(b)
		}
		n := copy(p, b[:i])
		_, _ = t.br.Discard(n)
		return n, nil
	}
	t.decide()
	return t.out.Read(p)
}

// decide picks UTF-8 or GB18030 from the window at the first non-ASCII byte.
func (t *textReader) decide() {
	w, err := t.br.Peek(sniffSize)
	if validUTF8(w, err != nil) {
		t.enc, t.out = EncUTF8, t.br
		return
	}
	t.enc = EncGB18030
	t.out = transform.NewReader(t.br, simplifiedchinese.GB18030.NewDecoder())
}

// firstNonASCII returns the index of the first byte >= 0x80 in b, or -1.
func firstNonASCII(b []byte) int {
	for i, c := range b {
		if c >= 0x80 {
			return i
		}
	}
	return -1
}
