package compare

import "fmt"

// Metric is one number of the comparison summary and the list behind it.
// The list selects with Where; the run counts with has, the same predicate
// on a person's Result, so each number equals its list's length
// (TestSummaryEqualsLists checks every number of a run against Where).
type Metric struct {
	Key   string
	Label string
	Where string // predicate on run_persons(run)
	has   func(Result) bool
}

// Record metrics count records, not persons, and list them from run_link.
const (
	MetricReview    = "review"
	MetricUnmatched = "unmatched"
)

// Metrics are the person metrics, in display order.
var Metrics = buildMetrics()

func buildMetrics() []Metric {
	ms := []Metric{
		{"persons", "已知人员", "true", func(Result) bool { return true }},
		{"universe", "登记对象", "in_universe", func(r Result) bool { return r.Universe }},
		{"pension_insured", "养老已参保", "pension = '" + Insured + "'", func(r Result) bool { return r.Pension == Insured }},
		{"pension_interrupted", "养老缴费中断", "pension = '" + Interrupted + "'", func(r Result) bool { return r.Pension == Interrupted }},
		{"pension_not", "养老应参未参", "pension = '" + NotInsured + "'", func(r Result) bool { return r.Pension == NotInsured }},
		{"medical_insured", "医疗已参保", "medical = '" + Insured + "'", func(r Result) bool { return r.Medical == Insured }},
		{"medical_not", "医疗应参未参", "medical = '" + NotInsured + "'", func(r Result) bool { return r.Medical == NotInsured }},
	}
	for _, f := range Flags {
		ms = append(ms, Metric{fmt.Sprintf("flag%d", int(f)), f.Name(), fmt.Sprintf("flags & %d <> 0", int(f)),
			func(r Result) bool { return r.Flags&int(f) != 0 }})
	}
	return append(ms, Metric{"survey", "入户调查对象", "survey", func(r Result) bool { return r.Survey }})
}

// MetricByKey finds a person metric.
func MetricByKey(key string) (Metric, bool) {
	for _, m := range Metrics {
		if m.Key == key {
			return m, true
		}
	}
	return Metric{}, false
}

// RecordMetricLabel names the record metrics.
func RecordMetricLabel(key string) string {
	switch key {
	case MetricReview:
		return "待审核记录"
	case MetricUnmatched:
		return "未匹配记录"
	}
	return key
}
