package names

import "strings"

// lookAlikes are pairs of characters that differ by a stroke or a
// component and are misread from handwritten forms. Each pair is
// confusable both ways. Pairs that also read alike are listed only where
// that is not obvious; Compare finds homophones on its own.
var lookAlikes = []string{
	"己已", "已巳", "己巳", "戊戌", "戌戍", "戊戍", "未末", "土士", "干千", "干于",
	"千于", "王玉", "王主", "王壬", "玉主", "汪江", "田由", "由甲", "甲申", "由申",
	"田甲", "日曰", "天夭", "大太", "太犬", "大犬", "人入", "木术", "木本", "术本",
	"贝见", "今令", "余佘", "宫官", "刁刀", "荀苟", "冉再", "史吏", "万方", "逢逄",
	"郗郄", "廷延", "亳毫", "祎袆", "钰珏", "吴昊", "旻昊", "雪雷", "锦绵", "春舂",
	"沐沭", "兔免", "鸟乌", "臧藏", "杨扬", "杨汤", "扬汤", "栗粟", "冶治", "折拆",
	"崇祟", "徽微", "茶荼", "拔拨", "赢嬴", "晴睛", "幸辛", "段殷", "傅博", "季李",
	"秀季", "戴载", "卜卞", "佳住", "洁浩", "锐悦", "丙两", "乒兵", "陈阵", "郝赫",
	"斐裴", "妤好", "媛嫒", "彬杉", "禾木", "龙尤", "思恩", "梅海", "谦廉", "贤坚",
	"侯候", "洗冼",
}

// cantonese groups characters that sound the same in Cantonese (tones
// aside) but not in Mandarin, so that a clerk taking a name by ear in
// western Guangdong writes one for the other. Any two characters of a
// group are confusable; the comment gives the shared Jyutping syllable.
var cantonese = []string{
	"黄王汪",        // wong
	"吴伍",         // ng
	"甘金",         // gam
	"江刚钢岗",       // gong
	"吕雷蕾",        // leoi
	"阮袁元源",       // jyun
	"余俞于如茹儒",     // jyu
	"饶姚尧瑶",       // jiu
	"洪鸿红虹雄熊孔",    // hung
	"伟玮炜韦卫惠慧蕙",   // wai
	"恩欣殷",        // jan
	"成诚城承盛胜圣升",   // sing
	"荣永颖泳咏",      // wing
	"文雯闻敏民闵",     // man
	"美媚薇",        // mei
	"云芸温尹允韵",     // wan
	"海凯恺",        // hoi
	"正政征晶精静靖贞祯桢", // zing
	"兴庆卿",        // hing
	"沈岑心深森",      // sam
	"张章蒋",        // zoeng
	"徐崔",         // ceoi
	"谭覃",         // taam
	"游尤由邱丘",      // jau
	"燕妍研贤然言",     // jin
	"胡邬乌",        // wu
	"焦赵招",        // ziu
	"卢劳",         // lou
	"巫毛武",        // mou
}

// runePair is the order-free key of two runes.
func runePair(x, y rune) uint64 {
	if x > y {
		x, y = y, x
	}
	return uint64(x)<<32 | uint64(uint32(y))
}

// buildPairs indexes lookAlikes and cantonese.
func buildPairs() map[uint64]bool {
	m := make(map[uint64]bool, 512)
	for _, p := range lookAlikes {
		rs := []rune(p)
		m[runePair(rs[0], rs[1])] = true
	}
	for _, g := range cantonese {
		rs := []rune(g)
		for i := range rs {
			for j := i + 1; j < len(rs); j++ {
				m[runePair(rs[i], rs[j])] = true
			}
		}
	}
	return m
}

// Fuzzy pinyin: the confusions that pinyin input methods offer to forgive
// (模糊音), because speakers of southern Chinese, Cantonese among them, do
// not tell these sounds apart: z/zh, c/ch, s/sh, n/l, f/h in the initial,
// an/ang, en/eng, in/ing, ian/iang, uan/uang in the final. Two syllables
// are one fuzzy step apart when they differ by exactly one of these, in
// the initial or in the final but not both: 陈/程 (chen/cheng) and 钟/宗
// (zhong/zong) are, 黄/方 (huang/fang) is not.
var (
	initials     = []string{"zh", "ch", "sh", "b", "p", "m", "f", "d", "t", "n", "l", "g", "k", "h", "j", "q", "x", "r", "z", "c", "s", "y", "w"}
	fuzzyInitial = map[string]string{"zh": "z", "ch": "c", "sh": "s", "l": "n", "h": "f"}
	fuzzyFinal   = map[string]string{"ang": "an", "eng": "en", "ing": "in", "iang": "ian", "uang": "uan"}
)

// splitSyllable cuts a toneless syllable into initial and final.
func splitSyllable(s string) (initial, final string) {
	for _, i := range initials {
		if strings.HasPrefix(s, i) && len(s) > len(i) {
			return i, s[len(i):]
		}
	}
	return "", s
}

// sylPair is the order-free key of two syllable ids.
func sylPair(a, b uint16) uint32 {
	if a > b {
		a, b = b, a
	}
	return uint32(a)<<16 | uint32(b)
}

// buildFuzzy indexes the syllable pairs one fuzzy step apart, by grouping
// syllables under the forms with initial or final made fuzzy.
func buildFuzzy(syl []string) map[uint32]bool {
	byInitial := make(map[string][]uint16) // fuzzy initial + exact final
	byFinal := make(map[string][]uint16)   // exact initial + fuzzy final
	for id, s := range syl {
		if id == 0 {
			continue
		}
		in, fi := splitSyllable(s)
		fin, ffi := in, fi
		if c, ok := fuzzyInitial[in]; ok {
			fin = c
		}
		if c, ok := fuzzyFinal[fi]; ok {
			ffi = c
		}
		byInitial[fin+"|"+fi] = append(byInitial[fin+"|"+fi], uint16(id))
		byFinal[in+"|"+ffi] = append(byFinal[in+"|"+ffi], uint16(id))
	}
	m := make(map[uint32]bool)
	for _, groups := range []map[string][]uint16{byInitial, byFinal} {
		for _, ids := range groups {
			for i := range ids {
				for j := i + 1; j < len(ids); j++ {
					m[sylPair(ids[i], ids[j])] = true
				}
			}
		}
	}
	return m
}

// confusable reports whether x and y are a known typo pair: look-alike,
// Cantonese-confusable, or one fuzzy-pinyin step apart.
func (t *table) confusable(x, y rune) bool {
	if t.pairs[runePair(x, y)] {
		return true
	}
	var bx, by [4]uint16
	for _, a := range t.readings(bx[:0], x) {
		for _, b := range t.readings(by[:0], y) {
			if a != b && t.fuzzy[sylPair(a, b)] {
				return true
			}
		}
	}
	return false
}
