package region

// Counts are numbers by metric key for one region.
type Counts map[string]int

// Line is one row of a region breakdown.
type Line struct {
	Code, Name string
	Counts     Counts
	// Rest marks the line for what lies in the region but in none of its
	// children (persons whose address names only the parent, or a child
	// code the division tables do not know): shown so the rows add up.
	Rest bool
}

// Breakdown is a region's numbers split over the regions directly below it,
// the shape every summary, dashboard and report table takes: one line per
// child (zeros where nobody lives, so a lagging township is visible), a
// rest line only when the children do not add up to the total, and the
// total itself.
type Breakdown struct {
	Lines []Line
	Total Line
}

// Split builds the breakdown of parent. kids are the child regions in
// display order; got are the counts the data holds for child codes (a code
// missing from kids still gets a line, after them); total is the parent's
// own count over everything inside it.
func Split(parent Region, kids []Region, got []Line, total Counts) Breakdown {
	byCode := make(map[string]Counts, len(got))
	names := make(map[string]string, len(got))
	for _, g := range got {
		byCode[g.Code], names[g.Code] = g.Counts, g.Name
	}
	b := Breakdown{Total: Line{Code: parent.Code, Name: parent.Name, Counts: orEmpty(total)}}
	sum := Counts{}
	add := func(code, name string) {
		c := orEmpty(byCode[code])
		for k, n := range c {
			sum[k] += n
		}
		delete(byCode, code)
		b.Lines = append(b.Lines, Line{Code: code, Name: name, Counts: c})
	}
	for _, k := range kids {
		add(k.Code, k.Name)
	}
	for _, g := range got {
		if _, left := byCode[g.Code]; left {
			add(g.Code, names[g.Code])
		}
	}
	rest := Line{Name: "未落到下级区划", Rest: true, Counts: Counts{}}
	nonZero := false
	for k, n := range b.Total.Counts {
		if d := n - sum[k]; d != 0 {
			rest.Counts[k], nonZero = d, true
		}
	}
	for k, n := range sum { // a metric the total lacks
		if _, ok := b.Total.Counts[k]; !ok && n != 0 {
			rest.Counts[k], nonZero = -n, true
		}
	}
	if nonZero && len(b.Lines) > 0 {
		b.Lines = append(b.Lines, rest)
	}
	return b
}

func orEmpty(c Counts) Counts {
	if c == nil {
		return Counts{}
	}
	return c
}
