package names

// compoundSurnames are the two-character surnames common enough to meet
// in a register: the second character of one belongs to the surname, not
// to the given name.
var compoundSurnames = map[[2]rune]bool{
	{'欧', '阳'}: true, {'司', '马'}: true, {'上', '官'}: true, {'诸', '葛'}: true, {'东', '方'}: true, {'皇', '甫'}: true,
	{'尉', '迟'}: true, {'公', '孙'}: true, {'令', '狐'}: true, {'慕', '容'}: true, {'长', '孙'}: true, {'宇', '文'}: true,
	{'夏', '侯'}: true, {'司', '徒'}: true, {'司', '空'}: true, {'端', '木'}: true, {'独', '孤'}: true, {'南', '宫'}: true,
	{'西', '门'}: true, {'呼', '延'}: true, {'轩', '辕'}: true, {'澹', '台'}: true, {'闻', '人'}: true, {'万', '俟'}: true,
	{'申', '屠'}: true, {'淳', '于'}: true, {'单', '于'}: true, {'太', '史'}: true, {'钟', '离'}: true, {'濮', '阳'}: true,
	{'公', '冶'}: true, {'赫', '连'}: true, {'拓', '跋'}: true, {'百', '里'}: true, {'东', '郭'}: true, {'左', '丘'}: true,
}

// surnameLen is how many leading characters of two equally long names
// are surname: two when either starts with a compound surname and has a
// given name after it, else one.
func surnameLen(ra, rb []rune) int {
	if len(ra) >= 3 && len(rb) >= 3 &&
		(compoundSurnames[[2]rune{ra[0], ra[1]}] || compoundSurnames[[2]rune{rb[0], rb[1]}]) {
		return 2
	}
	return 1
}
