package names

import (
	"slices"
	"testing"

	pinyin "github.com/mozillazg/go-pinyin"
)

// demoTypoPairs is a copy of the typo table of internal/demo (names.go),
// which this package must not import: every pair must come out as a
// typo-level match, so that linking the demo data finds every 姓名错字.
var demoTypoPairs = []string{
	"丽莉", "伟玮", "华化", "明鸣", "芳方", "军君", "玲铃", "红宏", "静靖", "刚钢",
	"梅玫", "英瑛", "敏民", "杰洁", "燕艳", "霞侠", "娟鹃", "勇永", "峰锋", "涛滔",
	"斌彬", "辉晖", "平萍", "建健", "文雯", "珍贞", "凤风", "兰岚", "秀绣", "桂贵",
	"志智", "新欣", "林琳", "云芸", "玉钰", "成诚", "金锦", "荣蓉", "清青", "东冬",
	"德得", "慧惠", "琴芹", "彩采", "妹美", "婷亭", "晓小",
	"张章", "刘柳", "吴伍", "黄王", "徐许", "肖萧",
}

// demoSimilar are the demo pairs that do not read alike in Mandarin.
var demoSimilar = map[string]bool{"黄王": true}

func TestNormalize(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"clean", "陈大文", "陈大文"},
		{"outer spaces", "  陈大文 ", "陈大文"},
		{"inner spaces", "陈 大  文", "陈大文"},
		{"full-width space", "\u3000陈\u3000大文\u3000", "陈大文"},
		{"tab and newline", "\t陈大文\r\n", "陈大文"},
		{"no-break space", "陈\u00A0大文", "陈大文"},
		{"zero-width", "\uFEFF陈大\u200B文", "陈大文"},
		{"middle dot", "阿依古丽·买买提", "阿依古丽买买提"},
		{"bullet", "阿依古丽•买买提", "阿依古丽买买提"},
		{"katakana dot", "阿依古丽・买买提", "阿依古丽买买提"},
		{"half-width katakana dot", "阿依古丽･买买提", "阿依古丽买买提"},
		{"full stop", "阿依古丽.买买提", "阿依古丽买买提"},
		{"full-width full stop", "阿依古丽．买买提", "阿依古丽买买提"},
		{"full-width Latin", "ＪＯＨＮ　Ｓｍｉｔｈ", "JOHNSmith"},
		{"case kept", "John Smith", "JohnSmith"},
		{"empty", "", ""},
		{"only spaces", " \u3000 ", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Normalize(tc.in); got != tc.want {
				t.Errorf("Normalize(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// compareTests are the cases of TestCompare, also used to check that
// Same and Homophone names share a KeyVariants key.
var compareTests = []struct {
	name string
	a, b string
	want Match
}{
	// Same.
	{"identical", "陈大文", "陈大文", Same},
	{"spaces", "陈大文", " 陈 大文 ", Same},
	{"full-width spaces", "陈大文", "\u3000陈\u3000大文", Same},
	{"middle dot", "阿依古丽·买买提", "阿依古丽买买提", Same},
	{"middle dot variants", "阿依古丽•买买提", "阿依古丽・买买提", Same},
	{"full-width Latin", "ＬＩ　Ｍｉｎｇ", "LI Ming", Same},

	// Homophone: the brief's pairs, in names.
	{"丽/莉", "王丽", "王莉", Homophone},
	{"伟/玮", "李伟", "李玮", Homophone},
	{"华/化", "陈华", "陈化", Homophone},
	{"明/鸣", "林志明", "林志鸣", Homophone},
	{"芳/方", "张芳", "张方", Homophone},
	{"军/君", "刘建军", "刘建君", Homophone},
	{"玲/铃", "何玲", "何铃", Homophone},
	{"红/宏", "梁红", "梁宏", Homophone},
	{"静/靖", "罗静", "罗靖", Homophone},
	{"刚/钢", "郑刚", "郑钢", Homophone},
	{"吴/伍 (wu/wu in Mandarin)", "吴志强", "伍志强", Homophone},
	{"two homophones", "陈丽华", "陈莉化", Homophone},
	{"every character", "陈丽华", "晨莉化", Homophone},
	{"surname reading 曾 zeng", "曾志伟", "增志伟", Homophone},
	{"other reading 曾 ceng", "曾志伟", "层志伟", Homophone},
	{"surname reading 区 ou", "区文", "欧文", Homophone},
	{"surname reading 单 shan", "单雄", "山雄", Homophone},
	{"surname reading 洗 xian", "洗伟", "冼伟", Homophone},
	{"traditional", "陳大文", "陈大文", Homophone},
	{"Latin case", "LI Ming", "li ming", Homophone},

	// Similar.
	{"look-alike 己/已", "王克己", "王克已", Similar},
	{"look-alike 戊/戌", "张戊", "张戌", Similar},
	{"look-alike 余/佘", "余明", "佘明", Similar},
	{"Cantonese 黄/王", "黄志明", "王志明", Similar},
	{"Cantonese 甘/金", "甘伟", "金伟", Similar},
	{"Cantonese 阮/袁", "阮小红", "袁小红", Similar},
	{"Cantonese 张/蒋", "张国荣", "蒋国荣", Similar},
	{"fuzzy initial ch/c", "陈锦", "岑锦", Similar},
	{"fuzzy initial n/l", "刘伟", "牛伟", Similar},
	{"fuzzy final en/eng", "陈明", "程明", Similar},
	{"fuzzy final in/ing", "林芳", "凌芳", Similar},

	// Different.
	{"one plain typo", "陈大文", "陈小文", Different},
	{"fuzzy in both initial and final", "黄明", "方明", Different},
	{"homophone and look-alike", "黄丽", "王莉", Different},
	{"two look-alikes", "黄克己", "王克已", Different},
	{"longer", "陈大文", "陈大文明", Different},
	{"shorter compound surname", "欧阳明", "欧明", Different},
	{"transposed", "张丽华", "张华丽", Different},
	{"unrelated", "陈大文", "李四", Different},
	{"unrelated same length", "陈大文", "李小明", Different},
	{"empty", "", "", Different},
	{"one empty", "陈大文", " ", Different},
	// Archaic readings in go-pinyin must not make surnames homophones, nor
	// Similar: Similar links a record on its own, and 谢伟's record would go
	// to 叶伟.
	{"叶 not xie", "叶伟", "谢伟", Different},
	{"沈 not chen", "沈伟", "陈伟", Different},
	{"陆 not liu", "陆军", "刘军", Different},
	{"任 not lin", "任杰", "林杰", Different},
	{"方 not wang", "方芳", "王芳", Different},
	{"丁 not zheng", "丁勇", "郑勇", Different},
	{"余 not xu", "余强", "徐强", Different},
	{"刘 not lu", "刘伟", "陆伟", Different},
	{"潘 not fan", "潘伟", "范伟", Different},
	{"贾 not jia/xia", "贾伟", "夏伟", Different},
	{"胡 not xu", "胡伟", "许伟", Different},
	{"董 not zhong", "董伟", "钟伟", Different},
	{"石 not hao", "石伟", "郝伟", Different},
	{"compound surname's second character", "东方伟", "东王伟", Different},
	{"rare readings in two characters", "叶方", "谢王", Different},

	// Issue 9: a given-name character sharing any reading (heteronym mode).
	{"靓 jing/liang", "孟靓", "孟亮", Similar},
	{"靓 first reading", "孟靓", "孟静", Homophone},
	{"行 xing/hang", "李行", "李航", Similar},
	{"after a compound surname", "欧阳靓", "欧阳亮", Similar},
	{"方 wang in a given name", "叶方", "叶王", Similar},
	{"no shared reading", "孟靓", "孟丽", Different},
}

func TestCompare(t *testing.T) {
	for _, tc := range compareTests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Compare(tc.a, tc.b); got != tc.want {
				t.Errorf("Compare(%q, %q) = %v, want %v", tc.a, tc.b, got, tc.want)
			}
			if got := Compare(tc.b, tc.a); got != tc.want {
				t.Errorf("Compare(%q, %q) = %v, want %v (reversed)", tc.b, tc.a, got, tc.want)
			}
		})
	}
}

func TestCompareDemoPairs(t *testing.T) {
	for _, p := range demoTypoPairs {
		rs := []rune(p)
		x, y := string(rs[0]), string(rs[1])
		want := Homophone
		if demoSimilar[p] {
			want = Similar
		}
		t.Run(p, func(t *testing.T) {
			// As surname, as given name, and alone.
			for _, c := range [][2]string{
				{x + "志文", y + "志文"},
				{"陈" + x + "文", "陈" + y + "文"},
				{"梁" + x, "梁" + y},
				{x, y},
			} {
				if got := Compare(c[0], c[1]); got != want {
					t.Errorf("Compare(%q, %q) = %v, want %v", c[0], c[1], got, want)
				}
				if got := Compare(c[1], c[0]); got != want {
					t.Errorf("Compare(%q, %q) = %v, want %v", c[1], c[0], got, want)
				}
				if want == Homophone && Key(c[0]) != Key(c[1]) {
					t.Errorf("Key(%q) = %q, Key(%q) = %q, want equal",
						c[0], Key(c[0]), c[1], Key(c[1]))
				}
			}
		})
	}
}

func TestKey(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"plain", "陈大文", "chendawen"},
		{"spaces and dots", " 阿依古丽·买买提 ", "ayigulimaimaiti"},
		{"ü as v", "吕女", "lvnv"},
		{"surname 曾", "曾志伟", "zengzhiwei"},
		{"surname 单", "单田芳", "shantianfang"},
		{"surname 区", "区文", "ouwen"},
		{"surname 长", "长江", "changjiang"},
		{"曾 not first", "李曾", "liceng"},
		{"Latin lower-cased", "ＬＩ Ming", "liming"},
		{"digits kept", "张三2", "zhangsan2"},
		{"empty", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Key(tc.in); got != tc.want {
				t.Errorf("Key(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestKeyHomophones(t *testing.T) {
	for _, p := range [][2]string{
		{"王丽", "王莉"}, {"李伟", "李玮"}, {"陈华", "陈化"}, {"林志明", "林志鸣"},
		{"张芳", "张方"}, {"刘建军", "刘建君"}, {"何玲", "何铃"}, {"梁红", "梁宏"},
		{"罗静", "罗靖"}, {"郑刚", "郑钢"}, {"曾志伟", "增志伟"}, {"区文", "欧文"},
		{"陳大文", "陈大文"}, {"LI Ming", "li ming"},
	} {
		t.Run(p[0]+"/"+p[1], func(t *testing.T) {
			if Key(p[0]) != Key(p[1]) {
				t.Errorf("Key(%q) = %q, Key(%q) = %q, want equal", p[0], Key(p[0]), p[1], Key(p[1]))
			}
		})
	}
}

func TestKeyVariants(t *testing.T) {
	tests := []struct {
		name, in string
		want     []string
	}{
		{"no polyphone", "陈大文", []string{"chendawen"}},
		{"surname 区", "区文", []string{"ouwen", "quwen"}},
		{"two polyphones", "曾朝", []string{"zengchao", "zengzhao", "cengchao", "cengzhao"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := KeyVariants(tc.in)
			if !slices.Equal(got, tc.want) {
				t.Errorf("KeyVariants(%q) = %q, want %q", tc.in, got, tc.want)
			}
			if got[0] != Key(tc.in) {
				t.Errorf("KeyVariants(%q)[0] = %q, want Key %q", tc.in, got[0], Key(tc.in))
			}
		})
	}
	// The promise blocking relies on: Same and Homophone names meet.
	for _, tc := range compareTests {
		if tc.want < Homophone {
			continue
		}
		t.Run("shared/"+tc.name, func(t *testing.T) {
			va, vb := KeyVariants(tc.a), KeyVariants(tc.b)
			if !slices.ContainsFunc(va, func(k string) bool { return slices.Contains(vb, k) }) {
				t.Errorf("KeyVariants(%q) = %q and KeyVariants(%q) = %q share nothing", tc.a, va, tc.b, vb)
			}
		})
	}
}

func TestScore(t *testing.T) {
	for _, tc := range compareTests {
		t.Run(tc.name, func(t *testing.T) {
			s := Score(tc.a, tc.b)
			var want float64
			switch tc.want {
			case Same:
				want = 1
			case Homophone:
				want = 0.9
			case Similar:
				want = 0.8
			default:
				if s < 0 || s >= 0.7 {
					t.Errorf("Score(%q, %q) = %v, want in [0, 0.7)", tc.a, tc.b, s)
				}
				return
			}
			if s != want {
				t.Errorf("Score(%q, %q) = %v, want %v", tc.a, tc.b, s, want)
			}
		})
	}
}

func TestScoreOrder(t *testing.T) {
	// Each pair must score strictly above the next.
	tests := []struct {
		name  string
		pairs [][2]string
	}{
		{"match levels", [][2]string{
			{"陈大文", "陈大文"}, {"陈大文", "陈达文"}, {"陈大文", "程大文"}, {"陈大文", "陈小文"},
		}},
		{"one typo above unrelated", [][2]string{{"陈大文", "陈小文"}, {"陈大文", "李四"}}},
		{"one typo above two", [][2]string{{"陈大文", "陈小文"}, {"陈大文", "陈小武"}}},
		{"near-typo above plain typo", [][2]string{{"黄丽", "王莉"}, {"黄丽", "方芳"}}},
		{"one missing character above unrelated", [][2]string{{"欧阳明", "欧明"}, {"欧阳明", "李四"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for i := 1; i < len(tc.pairs); i++ {
				p, q := tc.pairs[i-1], tc.pairs[i]
				if sp, sq := Score(p[0], p[1]), Score(q[0], q[1]); sp <= sq {
					t.Errorf("Score%q = %v, not above Score%q = %v", p, sp, q, sq)
				}
			}
		})
	}
	if s := Score("陈大文", "李四"); s != 0 {
		t.Errorf("Score(陈大文, 李四) = %v, want 0", s)
	}
}

func TestMatchString(t *testing.T) {
	for m, want := range map[Match]string{
		Different: "不同", Similar: "形近", Homophone: "同音", Same: "相同", Match(7): "Match(7)",
	} {
		t.Run(want, func(t *testing.T) {
			if got := m.String(); got != want {
				t.Errorf("Match(%d).String() = %q, want %q", int(m), got, want)
			}
		})
	}
}

// TestReadingTables checks the hand-made tables against go-pinyin.
func TestReadingTables(t *testing.T) {
	a := pinyin.NewArgs()
	a.Heteronym = true
	check := func(kind string, m map[rune]string) {
		for r, s := range m {
			all := pinyin.SinglePinyin(r, a)
			if !slices.Contains(all, s) {
				t.Errorf("%s reading %c %s: go-pinyin has only %q", kind, r, s, all)
			}
			if all[0] == s {
				t.Errorf("%s reading %c %s is already the first reading", kind, r, s)
			}
		}
	}
	check("surname", surnameReadings)
	check("given-name", givenReadings)

	// toneless must agree with go-pinyin's own Normal style.
	tb := tables()
	for code := range pinyin.PinyinDict {
		r := rune(code)
		want := pinyin.SinglePinyin(r, pinyin.NewArgs())[0]
		if got := tb.syl[tb.first(r)]; got != want {
			t.Errorf("first reading of %c = %q, go-pinyin says %q", r, got, want)
		}
	}
}

// TestConfusableTables checks that the pair tables hold what they say.
func TestConfusableTables(t *testing.T) {
	tb := tables()
	for _, p := range lookAlikes {
		rs := []rune(p)
		if len(rs) != 2 || rs[0] == rs[1] {
			t.Errorf("look-alike %q is not a pair", p)
		}
	}
	for _, g := range cantonese {
		if rs := []rune(g); len(rs) < 2 {
			t.Errorf("Cantonese group %q has under two characters", g)
		}
	}
	for _, s := range append(slices.Clone(lookAlikes), cantonese...) {
		for _, r := range s {
			if tb.first(r) == 0 {
				t.Errorf("%c of %q has no reading", r, s)
			}
		}
	}
	// Every demo pair reads alike or is listed.
	for _, p := range demoTypoPairs {
		rs := []rune(p)
		if !tb.soundAlike(rs[0], rs[1]) && !tb.pairs[runePair(rs[0], rs[1])] {
			t.Errorf("demo pair %s is neither homophone nor listed", p)
		}
	}
}

func TestFuzzy(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"chen", "cheng", true}, {"chen", "cen", true}, {"zhong", "zong", true},
		{"lin", "ning", false}, {"lin", "ling", true}, {"nv", "lv", true},
		{"hu", "fu", true}, {"huang", "fang", false}, {"huang", "wang", false},
		{"xian", "xiang", true}, {"guan", "guang", true}, {"an", "ang", true},
		{"chen", "shen", false}, {"da", "xiao", false},
	}
	tb := tables()
	id := func(s string) uint16 {
		i := slices.Index(tb.syl, s)
		if i <= 0 {
			t.Fatalf("no syllable %q", s)
		}
		return uint16(i)
	}
	for _, tc := range tests {
		t.Run(tc.a+"/"+tc.b, func(t *testing.T) {
			if got := tb.fuzzy[sylPair(id(tc.a), id(tc.b))]; got != tc.want {
				t.Errorf("fuzzy(%s, %s) = %v, want %v", tc.a, tc.b, got, tc.want)
			}
		})
	}
}

var benchNames = []string{
	"陈大文", "黄志明", "李丽", "欧阳明", "曾志伟", "梁小红", "张国荣", "区文",
	"何玲", "阿依古丽·买买提", "司徒建华", "林芳", "吴伍", "郑刚", "罗静", "谢伟",
}

func BenchmarkKey(b *testing.B) {
	Key("") // build the tables outside the timing
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		Key(benchNames[i%len(benchNames)])
	}
}

func BenchmarkKey3(b *testing.B) {
	Key("")
	b.ReportAllocs()
	for b.Loop() {
		Key("陈大文")
	}
}

func BenchmarkKeyVariants(b *testing.B) {
	Key("")
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		KeyVariants(benchNames[i%len(benchNames)])
	}
}

// benchPairs mixes the outcomes a linker sees among its candidates.
var benchPairs = [][2]string{
	{"陈大文", "陈大文"}, {"王丽", "王莉"}, {"黄志明", "王志明"}, {"陈大文", "陈小文"},
	{"陈大文", "李四"}, {"欧阳明", "欧明"}, {"阿依古丽·买买提", "阿依古丽买买提"}, {"林芳", "凌芳"},
}

func BenchmarkCompare(b *testing.B) {
	Key("")
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		p := benchPairs[i%len(benchPairs)]
		Compare(p[0], p[1])
	}
}

func BenchmarkScore(b *testing.B) {
	Key("")
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		p := benchPairs[i%len(benchPairs)]
		Score(p[0], p[1])
	}
}

func BenchmarkBuildTables(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		buildTable()
	}
}

func TestSameCharacters(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"张三丰", "张丰三", true},
		{"张丽华", "张华丽", true},
		{"欧阳明华", "欧阳华明", true},
		{"张三丰", "张三丰", false},
		{"张三丰", "张三峰", false},
		{"张三丰", "张丰", false},
		{"张", "张", false},
		{"", "", false},
		{"张 三丰", "张丰三", true},
	}
	for _, tt := range tests {
		if got := SameCharacters(tt.a, tt.b); got != tt.want {
			t.Errorf("SameCharacters(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}
