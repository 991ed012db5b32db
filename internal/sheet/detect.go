package sheet

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"
)

// sniffSize is how much of a file Detect and the encoding sniffer look at.
const sniffSize = 64 << 10

var (
	zipMagic = []byte("PK\x03\x04")
	oleMagic = []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}
	bomUTF8  = []byte{0xEF, 0xBB, 0xBF}
	bomLE16  = []byte{0xFF, 0xFE}
	bomBE16  = []byte{0xFE, 0xFF}
)

// Detect sniffs the content of path: an xlsx workbook, a legacy or encrypted
// OLE2 file (error), or text that reads as UTF-8, GB18030 or UTF-16 (csv).
func Detect(path string) (Format, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("无法打开文件：%w", err)
	}
	defer func() { _ = f.Close() }()
	head := make([]byte, sniffSize)
	n, err := io.ReadFull(f, head)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return "", fmt.Errorf("无法读取文件：%w", err)
	}
	head, atEOF := head[:n], n < sniffSize
	switch {
	case n == 0:
		return "", ErrEmptyFile
	case bytes.HasPrefix(head, zipMagic):
		return detectZip(path)
	case bytes.HasPrefix(head, oleMagic):
		if oleEncrypted(f, head) {
			return "", ErrEncrypted
		}
		return "", ErrLegacyXLS
	case isText(head, atEOF):
		return CSV, nil
	}
	return "", ErrUnknownFormat
}

// detectZip accepts a zip only if it holds a workbook part, so that .docx,
// .xlsb or arbitrary archives are refused before excelize sees them.
func detectZip(path string) (Format, error) {
	z, err := zip.OpenReader(path)
	if err != nil {
		return "", fmt.Errorf("%w（压缩包已损坏或不完整）", ErrUnknownFormat)
	}
	defer func() { _ = z.Close() }()
	for _, zf := range z.File {
		if strings.EqualFold(strings.ReplaceAll(zf.Name, `\`, "/"), "xl/workbook.xml") {
			return XLSX, nil
		}
	}
	return "", ErrUnknownFormat
}

// oleEncrypted reports whether the OLE2 directory names an EncryptedPackage
// stream, which is how Office stores password-protected .xlsx files. Only the
// first directory sector is read: the stream sits next to the root entry.
func oleEncrypted(f *os.File, head []byte) bool {
	if len(head) < 0x34 {
		return false
	}
	shift := binary.LittleEndian.Uint16(head[0x1E:])
	dirSect := binary.LittleEndian.Uint32(head[0x30:])
	if shift < 9 || shift > 12 || dirSect >= 0xFFFFFFFA {
		return false
	}
	size := int64(1) << shift
	dir := make([]byte, size)
	n, _ := f.ReadAt(dir, (int64(dirSect)+1)*size)
	return bytes.Contains(dir[:n], utf16le("EncryptedPackage"))
}

// utf16le encodes an ASCII string as UTF-16LE, the OLE2 directory name encoding.
func utf16le(s string) []byte {
	b := make([]byte, 0, 2*len(s))
	for i := 0; i < len(s); i++ {
		b = append(b, s[i], 0)
	}
	return b
}

// isText reports whether head looks like a delimited text file. HTML and XML
// (e.g. "xls" exports that are really web pages) are refused: read as CSV
// they would produce garbage rows instead of a clear error.
func isText(head []byte, atEOF bool) bool {
	if bytes.HasPrefix(head, bomLE16) || bytes.HasPrefix(head, bomBE16) {
		return true
	}
	body := bytes.TrimPrefix(head, bomUTF8)
	if bytes.IndexByte(body, 0) >= 0 {
		return false
	}
	if t := bytes.TrimLeft(body, " \t\r\n"); len(t) > 0 && t[0] == '<' {
		return false
	}
	return validUTF8(body, atEOF) || validGB18030(body, atEOF)
}

// validUTF8 is utf8.Valid that tolerates a rune cut off by the sample window.
func validUTF8(b []byte, atEOF bool) bool {
	if !atEOF {
		b = b[:len(b)-partialRuneLen(b)]
	}
	return utf8.Valid(b)
}

// partialRuneLen returns how many trailing bytes of b form an incomplete rune.
func partialRuneLen(b []byte) int {
	for i := 1; i <= utf8.UTFMax-1 && i <= len(b); i++ {
		c := b[len(b)-i]
		if c < 0x80 {
			return 0
		}
		if utf8.RuneStart(c) {
			if utf8.FullRune(b[len(b)-i:]) {
				return 0
			}
			return i
		}
	}
	return 0
}

// validGB18030 checks the GB18030 byte structure (1, 2 or 4 byte sequences);
// the x/text decoder replaces bad bytes silently, so it cannot tell us this.
func validGB18030(b []byte, atEOF bool) bool {
	for i := 0; i < len(b); {
		c := b[i]
		if c < 0x80 {
			i++
			continue
		}
		if c == 0x80 || c == 0xFF {
			return false
		}
		n := gbSeqLen(b[i:])
		if n < 0 {
			return !atEOF && len(b)-i < 4
		}
		if n == 0 {
			return false
		}
		i += n
	}
	return true
}

// gbSeqLen returns the length of the multi-byte GB18030 sequence at the start
// of b, 0 if it is invalid, or -1 if b ends before the sequence does.
func gbSeqLen(b []byte) int {
	if len(b) < 2 {
		return -1
	}
	switch c := b[1]; {
	case c >= 0x40 && c <= 0xFE && c != 0x7F:
		return 2
	case c < 0x30 || c > 0x39:
		return 0
	}
	if len(b) < 4 {
		return -1
	}
	if b[2] < 0x81 || b[2] > 0xFE || b[3] < 0x30 || b[3] > 0x39 {
		return 0
	}
	return 4
}
