package server

import "github.com/canbao/canbao/internal/region"

// countyNote explains, for the person page, an ID whose 6-digit address
// code the division tables do not know. Such an ID is not damaged (codes of
// abolished counties stay on old IDs), but a clerk should see it; "" when
// the code is known or the ID is not 18 characters.
func countyNote(id string) string {
	if len(id) != 18 || region.KnownCounty(id) {
		return ""
	}
	return "前六位 " + id[:6] + " 不在现行区划代码表中（可能是已撤销的旧区划代码）"
}
