package region

import (
	"reflect"
	"testing"
)

func TestSplit(t *testing.T) {
	county := Region{Code: "440981", Name: "高州市"}
	kids := []Region{{Code: "440981001", Name: "潘州街道"}, {Code: "440981107", Name: "镇江镇"}}

	t.Run("AddsUp", func(t *testing.T) {
		got := []Line{{Code: "440981107", Name: "镇江镇", Counts: Counts{"persons": 7}}}
		b := Split(county, kids, got, Counts{"persons": 7})
		if len(b.Lines) != 2 || b.Lines[0].Counts["persons"] != 0 || b.Lines[1].Counts["persons"] != 7 {
			t.Fatalf("lines = %+v", b.Lines)
		}
		if b.Total.Counts["persons"] != 7 || b.Total.Name != "高州市" {
			t.Errorf("total = %+v", b.Total)
		}
	})
	t.Run("Rest", func(t *testing.T) {
		got := []Line{{Code: "440981107", Counts: Counts{"persons": 7}}}
		b := Split(county, kids, got, Counts{"persons": 10, "survey": 2})
		last := b.Lines[len(b.Lines)-1]
		if !last.Rest || !reflect.DeepEqual(last.Counts, Counts{"persons": 3, "survey": 2}) {
			t.Errorf("rest = %+v", last)
		}
	})
	t.Run("UnknownChild", func(t *testing.T) {
		got := []Line{{Code: "440981999", Name: "", Counts: Counts{"persons": 1}}}
		b := Split(county, kids, got, Counts{"persons": 1})
		if len(b.Lines) != 3 || b.Lines[2].Code != "440981999" || b.Lines[2].Rest {
			t.Errorf("lines = %+v", b.Lines)
		}
	})
	t.Run("Leaf", func(t *testing.T) {
		b := Split(Region{Code: "440981107204"}, nil, nil, Counts{"persons": 4})
		if len(b.Lines) != 0 || b.Total.Counts["persons"] != 4 {
			t.Errorf("leaf = %+v", b)
		}
	})
}
