// Package region holds the administrative divisions (统计用区划代码). The
// rule that scopes every user, a region contains every code it prefixes, is
// package actor's (actor.Within, actor.InScope).
//
// The rules it implements (cited elsewhere as "DOMAIN §2"):
//
//   - A full code has 12 digits: province 2, city 2, county 2, township 3,
//     village 3 (440981107204 is 广东省 茂名市 高州市 镇江镇 镇江村). A code
//     cut after a level names that level: 4409, 440981, 440981107. The root
//     code "" (全国) sits above every province.
//   - In the township segment 001–099 are 街道, 100–199 镇 and 200–399 乡;
//     in the village segment 居委会 count from 001 and 村委会 from 200.
//   - The national tables (china-division 2.7.0, see divisions/LICENSE) ship
//     inside the binary.
//   - Work is organised city → county → township → village; every user
//     belongs to one region and sees only what lies inside it.
package region
