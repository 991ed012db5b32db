// canbao survey form: hints while typing (the server checks everything again).
// Every action works without this file.
(function () {
  "use strict";
  var W = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], C = "10X98765432";

  function validDate(s) {
    var m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
    if (!m) { return false; }
    var d = new Date(Date.UTC(+m[1], +m[2] - 1, +m[3]));
    return d.getUTCMonth() === +m[2] - 1 && d.getUTCDate() === +m[3] && d <= new Date();
  }

  function idProblem(v) {
    v = v.replace(/\s/g, "").toUpperCase();
    if (v.length !== 18) { return "应为 18 位（已输入 " + v.length + " 位）"; }
    if (!/^\d{17}[\dX]$/.test(v)) { return "只能是数字，最后一位可为 X"; }
    var sum = 0;
    for (var i = 0; i < 17; i++) { sum += (+v[i]) * W[i]; }
    if (C[sum % 11] !== v[17]) { return "校验位错误：请核对号码（常见为某一位输错或相邻两位颠倒）"; }
    if (!validDate(v.substr(6, 4) + "-" + v.substr(10, 2) + "-" + v.substr(12, 2))) { return "号码中的出生日期无效"; }
    return "";
  }

  var checks = {
    id: idProblem,
    date: function (v) { return validDate(v) ? "" : "应为 年-月-日，如 2026-07-15，且不晚于今天"; },
    phone: function (v) { return /^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8}(-\d{1,6})?|\d{7,8})$/.test(v) ? "" : "应为 11 位手机号或带区号的固定电话"; }
  };

  function check(input) {
    var kind = input.getAttribute("data-check"), hint = input.parentNode.querySelector(".hint");
    if (!kind || !checks[kind] || !hint) { return; }
    var v = input.value.trim(), msg = v === "" ? "" : checks[kind](v);
    hint.textContent = msg;
    input.parentNode.classList.toggle("has-error", msg !== "");
    if (kind === "id" && v !== "" && msg === "") { fillFromID(input.form, v.toUpperCase()); }
  }

  // A valid ID gives the birth date and the sex: fill them when empty.
  function fillFromID(form, id) {
    if (!form) { return; }
    var birth = form.elements.birth, sex = form.elements.sex;
    if (birth && !birth.value) { birth.value = id.substr(6, 4) + "-" + id.substr(10, 2) + "-" + id.substr(12, 2); }
    if (sex && !sex.value) { sex.value = (+id[16]) % 2 === 1 ? "男" : "女"; }
  }

  document.addEventListener("input", function (e) {
    if (e.target.hasAttribute && e.target.hasAttribute("data-check")) { check(e.target); }
  });
  document.addEventListener("change", function (e) {
    if (e.target.hasAttribute && e.target.hasAttribute("data-check")) { check(e.target); }
  });
})();
