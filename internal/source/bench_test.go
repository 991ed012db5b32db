package source

import "testing"

// benchInputs runs parse over typical cells, reporting allocations per call.
func benchInputs(b *testing.B, inputs []string, parse func(string) bool) {
	b.ReportAllocs()
	for _, in := range inputs {
		if !parse(in) {
			b.Fatalf("%q does not parse", in)
		}
	}
	b.ResetTimer()
	i := 0
	for b.Loop() {
		parse(inputs[i%len(inputs)])
		i++
	}
}

func BenchmarkParseDate(b *testing.B) {
	benchInputs(b, []string{"2017-06-30", "2017/6/30", "20170630", "2017年6月30日", "42916", "2017-06-30 08:00:00"},
		func(s string) bool { _, ok := ParseDate(s); return ok })
}

func BenchmarkParseScheme(b *testing.B) {
	benchInputs(b, []string{"110", "职工基本医疗保险", "居民医保", "390"},
		func(s string) bool { _, ok := ParseScheme(s); return ok })
}

func BenchmarkParseRegion12(b *testing.B) {
	benchInputs(b, []string{"440981101201", "440106000000"},
		func(s string) bool { _, ok := ParseRegion(s); return ok })
}

func BenchmarkParseRegion6(b *testing.B) {
	benchInputs(b, []string{"440981", "440981101"},
		func(s string) bool { _, ok := ParseRegion(s); return ok })
}

func BenchmarkParseEnrollStatus(b *testing.B) {
	benchInputs(b, []string{"1", "正常参保", "暂停", "4"},
		func(s string) bool { _, ok := ParseEnrollStatus(s); return ok })
}

func BenchmarkParseSex(b *testing.B) {
	benchInputs(b, []string{"男", "女", "1", "2"},
		func(s string) bool { _, ok := ParseSex(s); return ok })
}

func BenchmarkMatchHeader(b *testing.B) {
	header := []string{"序号", "证件号码", "姓  名", "*险种", "参保地", "参保状态", "缴费状态(必填)", "参保时间", "单位"}
	b.ReportAllocs()
	for b.Loop() {
		MatchHeader(header, Enrollment)
	}
}
