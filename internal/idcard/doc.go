// Package idcard parses, normalizes and validates Chinese citizen ID numbers
// (公民身份号码, GB 11643-1999) as they arrive in social-insurance imports:
// typed by hand, copied from spreadsheets, or mangled by them.
//
// The rules it implements (cited elsewhere as "DOMAIN §1"):
//
//   - An ID has 18 characters: a 6-digit address code, the birth date as
//     YYYYMMDD, a 3-digit sequence (odd for men, even for women) and a check
//     character. The check character is found by weighting the first 17
//     digits with 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2, taking the sum mod 11
//     and reading position (sum mod 11) of "10X98765432".
//   - The old 15-digit form (6 address, YYMMDD in the 1900s, 3 sequence, no
//     check) becomes 18 digits by inserting "19" before the year and
//     computing the check character.
//   - Normalizing is silent, never an error: spaces are removed wherever
//     they are, full-width digits and letters become half-width, x becomes
//     X, and 15 digits become 18.
//   - After normalizing, an ID is valid when it has 18 characters, a right
//     check character and a real birth date that is not in the future (nor
//     before 1890). Anything else is damaged, and the damage is classified
//     (Damage): blank, wrong length, bad characters, impossible date, wrong
//     check character (often one wrong digit or two swapped neighbours), or
//     a number a spreadsheet turned into scientific notation, which keeps
//     15 significant digits and pads with zeros.
//   - The 18-digit ID is also the social-security number: one person, one
//     registry entry.
package idcard
