package sheet

import (
	"archive/zip"
	"fmt"
)

// Zip bomb guard by ratio: spreadsheet XML deflates about ten to one; a
// part that unzips to more than maxRatio times its compressed size (and
// is big enough to matter) is padding, not data. The total size limit
// alone let a 47 MB run of whitespace through.
const (
	maxRatio       = 100
	ratioMinUnzip  = 16 << 20 // small parts may compress as well as they like
	errRatioFormat = "%w（其中 %s 压缩比 %d:1，超过上限 %d:1）"
)

// checkRatio refuses an xlsx with a part that unzips implausibly far.
func checkRatio(path string) error {
	zr, err := zip.OpenReader(path)
	if err != nil {
		return nil // the readers report a broken zip in their own words
	}
	defer func() { _ = zr.Close() }() // read only
	for _, f := range zr.File {
		if f.UncompressedSize64 <= ratioMinUnzip {
			continue
		}
		if f.CompressedSize64 == 0 || f.UncompressedSize64/f.CompressedSize64 > maxRatio {
			ratio := uint64(0)
			if f.CompressedSize64 > 0 {
				ratio = f.UncompressedSize64 / f.CompressedSize64
			}
			return fmt.Errorf(errRatioFormat, ErrTooLarge, f.Name, ratio, maxRatio)
		}
	}
	return nil
}
