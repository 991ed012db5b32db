package compare

import "fmt"

// Metric is one number of the comparison summary and the list behind it:
// both are computed from Where, so they always agree.
type Metric struct {
	Key   string
	Label string
	Where string // predicate on run_person
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
		{"persons", "已知人员", "true"},
		{"universe", "登记对象", "in_universe"},
		{"pension_insured", "养老已参保", "pension = '" + Insured + "'"},
		{"pension_interrupted", "养老缴费中断", "pension = '" + Interrupted + "'"},
		{"pension_not", "养老应参未参", "pension = '" + NotInsured + "'"},
		{"medical_insured", "医疗已参保", "medical = '" + Insured + "'"},
		{"medical_not", "医疗应参未参", "medical = '" + NotInsured + "'"},
	}
	for _, f := range Flags {
		ms = append(ms, Metric{fmt.Sprintf("flag%d", int(f)), f.Name(), fmt.Sprintf("flags & %d <> 0", int(f))})
	}
	return append(ms, Metric{"survey", "入户调查对象", "survey"})
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
