package sheet

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// tokKind is the kind of markup the scanner stopped at.
type tokKind int

const (
	tokStart     tokKind = iota // <name ...>
	tokEnd                      // </name>
	tokSelfClose                // <name .../>
	tokCDATA                    // <![CDATA[...]]>: body holds the raw text
	tokOther                    // comment, processing instruction, doctype
)

// errXMLTruncated reports XML that ends inside a tag.
var errXMLTruncated = errors.New("XML 内容不完整")

// xmlScanner is a minimal pull tokenizer for the regular XML that
// spreadsheet parts are: it finds tags and the text between them without
// building tokens, attribute slices or strings. Namespace prefixes are
// dropped from element names (x:row is row), which is all the namespace
// handling worksheet data needs.
type xmlScanner struct {
	br   *bufio.Reader
	text []byte // text before the current tag, raw (entities not decoded)
	tag  []byte // copy of a tag longer than the buffer or split by it
}

// newXMLScanner reads XML from r.
func newXMLScanner(r io.Reader) *xmlScanner {
	return &xmlScanner{br: bufio.NewReaderSize(r, 64<<10)}
}

// next advances to the next tag. It returns the tag's kind, local name and
// attribute text (or CDATA body); s.text holds the raw text before the tag.
// The slices are valid until the following call.
func (s *xmlScanner) next() (kind tokKind, name, rest []byte, err error) {
	if err = s.readText(); err != nil {
		return 0, nil, nil, err
	}
	raw, err := s.readTag()
	if err != nil {
		return 0, nil, nil, err
	}
	return parseTag(raw)
}

// maxTextRun bounds the text between two tags: an Excel cell holds at most
// 32,767 characters (under 160 KiB even with every one escaped), so a
// longer run is a damaged or hostile file, and is not held in memory.
const maxTextRun = 512 << 10

// readText reads up to and including the next '<', keeping the text before it.
func (s *xmlScanner) readText() error {
	s.text = s.text[:0]
	for {
		chunk, err := s.br.ReadSlice('<')
		if err == nil {
			s.text = append(s.text, chunk[:len(chunk)-1]...)
			return nil
		}
		if len(s.text)+len(chunk) > maxTextRun {
			return ErrTextTooLong
		}
		s.text = append(s.text, chunk...)
		if err != bufio.ErrBufferFull {
			if err == io.EOF && len(bytes.TrimSpace(s.text)) > 0 {
				return errXMLTruncated
			}
			return err
		}
	}
}

// readTag reads the rest of a tag after '<' through its closing '>', skipping
// '>' inside quoted attribute values, comments and CDATA sections.
func (s *xmlScanner) readTag() ([]byte, error) {
	chunk, err := s.br.ReadSlice('>')
	if err == nil && tagComplete(chunk) {
		return chunk[:len(chunk)-1], nil // the common case: no copy
	}
	s.tag = append(s.tag[:0], chunk...)
	for err == nil || err == bufio.ErrBufferFull {
		if err == nil && tagComplete(s.tag) {
			return s.tag[:len(s.tag)-1], nil
		}
		chunk, err = s.br.ReadSlice('>')
		s.tag = append(s.tag, chunk...)
	}
	if err == io.EOF {
		err = errXMLTruncated
	}
	return nil, err
}

// tagComplete reports whether b, ending in '>', is a whole tag.
func tagComplete(b []byte) bool {
	switch {
	case bytes.HasPrefix(b, []byte("!--")):
		return len(b) >= 6 && bytes.HasSuffix(b, []byte("-->"))
	case bytes.HasPrefix(b, []byte("![CDATA[")):
		return bytes.HasSuffix(b, []byte("]]>"))
	}
	quotes := 0
	for _, c := range b {
		if c == '"' || c == '\'' {
			quotes++
		}
	}
	return quotes%2 == 0
}

// parseTag splits raw tag text (without < and >) into kind, local name and rest.
func parseTag(raw []byte) (tokKind, []byte, []byte, error) {
	if len(raw) == 0 {
		return 0, nil, nil, errXMLTruncated
	}
	switch raw[0] {
	case '/':
		return tokEnd, localName(raw[1:]), nil, nil
	case '?':
		return tokOther, nil, nil, nil
	case '!':
		if body, ok := bytes.CutPrefix(raw, []byte("![CDATA[")); ok {
			return tokCDATA, nil, body[:len(body)-2], nil
		}
		return tokOther, nil, nil, nil
	}
	kind := tokStart
	if raw[len(raw)-1] == '/' {
		kind, raw = tokSelfClose, raw[:len(raw)-1]
	}
	end := bytes.IndexAny(raw, " \t\r\n")
	if end < 0 {
		return kind, localName(raw), nil, nil
	}
	return kind, localName(raw[:end]), raw[end:], nil
}

// localName drops a namespace prefix and trailing space from an element name.
func localName(b []byte) []byte {
	b = trimBytes(b)
	if i := bytes.IndexByte(b, ':'); i >= 0 {
		return b[i+1:]
	}
	return b
}

// attrValue returns the raw value of attribute name in attrs, or nil.
func attrValue(attrs []byte, name string) []byte {
	for len(attrs) > 0 {
		attrs = trimBytes(attrs)
		eq := bytes.IndexByte(attrs, '=')
		if eq < 0 {
			return nil
		}
		key := trimBytes(attrs[:eq])
		attrs = trimBytes(attrs[eq+1:])
		if len(attrs) == 0 {
			return nil
		}
		q := attrs[0]
		end := bytes.IndexByte(attrs[1:], q)
		if end < 0 {
			return nil
		}
		if string(key) == name {
			return attrs[1 : end+1]
		}
		attrs = attrs[end+2:]
	}
	return nil
}

// appendText appends XML character data to dst, decoding entities and
// normalising line ends as an XML parser must.
func appendText(dst, src []byte) []byte {
	if bytes.IndexByte(src, '&') < 0 && bytes.IndexByte(src, '\r') < 0 {
		return append(dst, src...)
	}
	for len(src) > 0 {
		c := src[0]
		switch {
		case c == '\r':
			dst = append(dst, '\n')
			src = src[1:]
			if len(src) > 0 && src[0] == '\n' {
				src = src[1:]
			}
		case c == '&':
			var n int
			dst, n = appendEntity(dst, src)
			src = src[n:]
		default:
			dst = append(dst, c)
			src = src[1:]
		}
	}
	return dst
}

// entities are the predefined XML entities.
var entities = map[string]byte{"lt": '<', "gt": '>', "amp": '&', "quot": '"', "apos": '\''}

// appendEntity decodes the entity at the start of src ("&amp;", "&#20013;",
// "&#x4E2D;"), returning how many bytes it used; unknown ones are kept as is.
func appendEntity(dst, src []byte) ([]byte, int) {
	semi := bytes.IndexByte(src, ';')
	if semi < 2 || semi > 12 {
		return append(dst, '&'), 1
	}
	ref := string(src[1:semi])
	if c, ok := entities[ref]; ok {
		return append(dst, c), semi + 1
	}
	if ref[0] == '#' {
		base, digits := 10, ref[1:]
		if len(digits) > 0 && (digits[0] == 'x' || digits[0] == 'X') {
			base, digits = 16, digits[1:]
		}
		if r, err := strconv.ParseUint(digits, base, 32); err == nil && utf8.ValidRune(rune(r)) {
			return utf8.AppendRune(dst, rune(r)), semi + 1
		}
	}
	return append(dst, '&'), 1
}

// unescapeBSTR decodes the _xHHHH_ escapes Office uses for characters XML
// cannot hold (e.g. _x000D_ for a carriage return); _x005F_ is a literal '_'.
func unescapeBSTR(s string) string {
	if !strings.Contains(s, "_x") {
		return s
	}
	var out []byte
	for i := 0; i < len(s); {
		if r, ok := bstrAt(s[i:]); ok {
			out = utf8.AppendRune(out, r)
			i += 7
			continue
		}
		out = append(out, s[i])
		i++
	}
	return string(out)
}

// bstrAt parses an _xHHHH_ escape at the start of s.
func bstrAt(s string) (rune, bool) {
	if len(s) < 7 || s[0] != '_' || s[1] != 'x' || s[6] != '_' {
		return 0, false
	}
	r, err := strconv.ParseUint(s[2:6], 16, 32)
	return rune(r), err == nil
}
