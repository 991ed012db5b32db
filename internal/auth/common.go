package auth

import (
	"strings"
	"unicode"
)

// commonPasswords are passwords that meet the character-class rule yet are
// among the first any attacker tries (leaked-password lists, keyboard
// walks, the system's own name). Compared ignoring case and trailing
// digits and symbols, so "Password1", "password123!" and "PASSWORD2026"
// are all caught.
var commonPasswords = map[string]bool{}

func init() {
	for _, p := range strings.Fields(`
		password password1 passw0rd p@ssw0rd p@ssword pa$$word pa55word
		aa123456 aa12345678 aa111111 aa112233 abc123456 abc12345 abcd1234 abc@123 a1234567 a12345678
		qwe123456 qwerty qwerty1 qwerty123 qweasdzxc qwer1234 1qaz2wsx 1qaz@wsx zaq12wsx asdf1234 zxcv1234
		admin admin1 admin123 admin@123 administrator root123 test1234 test@123 welcome welcome1 letmein letmein1
		changeme changeme1 iloveyou iloveyou1 sunshine monkey1 dragon1 football1 baseball1 superman1 trustno1
		woaini woaini1314 woaini520 5201314 1314520 aini1314 zhang123 wang123 li123456 huawei123 abc@1234
		canbao canbao1 canbao123 canbao@123 shebao shebao123 canbao2026
		`) {
		commonPasswords[p] = true
	}
}

// isCommon reports whether pw is one of commonPasswords, ignoring case,
// trailing symbols, and a trailing run of digits and symbols.
func isCommon(pw string) bool {
	p := strings.ToLower(pw)
	bare := strings.TrimRightFunc(p, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	stem := strings.TrimRightFunc(p, func(r rune) bool { return !unicode.IsLetter(r) })
	for _, c := range []string{p, bare, stem, stem + "1", stem + "123", stem + "1234", stem + "123456"} {
		if c != "" && commonPasswords[c] {
			return true
		}
	}
	return false
}
