package server

import (
	"slices"
	"testing"

	"github.com/canbao/canbao/internal/compare"
	"github.com/canbao/canbao/internal/source"
)

// TestSideBySideAlignsFields: two files naming the ID and name columns
// differently show them on the same rows, under the fields' names; other
// columns keep their headers, and disagreeing cells are marked.
func TestSideBySideAlignsFields(t *testing.T) {
	records := []compare.LinkedRecord{
		{Kind: "户籍人口", Header: []string{"公民身份号码", "姓名", "户号"}, Cells: []string{"440981198001011234", "陈大文", "H1"},
			Mapping: map[string]int{source.KeyID: 0, source.KeyName: 1}},
		{Kind: "参保信息", Header: []string{"参保人", "身份证号", "险种", "备注"}, Cells: []string{"陈大雯", "440981198001011234", "390", "x"},
			Mapping: map[string]int{source.KeyName: 0, source.KeyID: 1, source.KeyScheme: 2}},
	}
	_, fields, grid := sideBySide("440981198001011234", "陈大文", records, false)
	want := []string{"公民身份号码", "姓名", "户号", "险种类型", "备注"}
	if !slices.Equal(fields, want) {
		t.Fatalf("rows %v, want %v", fields, want)
	}
	at := func(row, col int) string { return grid[row][col].Value }
	if at(0, 1) != "440981198001011234" || at(1, 1) != "陈大雯" || at(3, 1) != "390" || at(2, 1) != "" || at(4, 0) != "" {
		t.Errorf("grid misaligned: %+v", grid)
	}
	if grid[1][0].Diff || !grid[1][1].Diff || grid[0][1].Diff {
		t.Errorf("diff marks wrong: %+v", grid)
	}
}
