package compare

import "slices"

// sortedIDs finds packed IDs in a sorted slice of them (an incremental
// run's million ghosts) faster than a binary search over all of it: the
// range of the IDs is cut into buckets of equal width (a power of two,
// about eight IDs each on average), and a search looks only through the
// IDs of the bucket its ID falls in.
type sortedIDs struct {
	ids   []uint64
	lo    uint64
	shift uint    // an ID's bucket is (id - lo) >> shift
	start []int32 // bucket b holds ids[start[b]:start[b+1]]
}

// newSortedIDs indexes ids, which must be sorted.
func newSortedIDs(ids []uint64) sortedIDs {
	x := sortedIDs{ids: ids}
	if len(ids) == 0 {
		return x
	}
	x.lo = ids[0]
	span := ids[len(ids)-1] - x.lo
	for span>>x.shift > uint64(len(ids)/8) {
		x.shift++
	}
	nb := int(span>>x.shift) + 1
	x.start = make([]int32, nb+1)
	b := 0 // the first bucket whose start is not set yet
	for i, id := range ids {
		for bi := int((id - x.lo) >> x.shift); b <= bi; b++ {
			x.start[b] = int32(i)
		}
	}
	for ; b <= nb; b++ {
		x.start[b] = int32(len(ids))
	}
	return x
}

// search returns the position of id in the sorted IDs, and whether it is
// there.
func (x *sortedIDs) search(id uint64) (int, bool) {
	if len(x.ids) == 0 || id < x.lo || id > x.ids[len(x.ids)-1] {
		return 0, false
	}
	b := (id - x.lo) >> x.shift
	from := int(x.start[b])
	i, ok := slices.BinarySearch(x.ids[from:x.start[b+1]], id)
	return from + i, ok
}
