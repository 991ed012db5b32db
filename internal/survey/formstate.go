package survey

import "github.com/canbao/canbao/internal/apperr"

// State is a survey form's state; a member's survey state is its live
// form's (Pending without one).
type State string

// The states of 000009: 待调查 → 调查中 → 已提交 → 已入库 / 已退回 (→ 调查中 on
// edit → 已提交 ...); an approved form is only ever superseded.
const (
	Pending    State = "pending" // 待调查: no form yet (never stored)
	Draft      State = "draft"
	Submitted  State = "submitted"
	Approved   State = "approved"
	Returned   State = "returned"
	Superseded State = "superseded"
)

var stateLabels = map[State]string{
	Pending: "待调查", Draft: "调查中", Submitted: "已提交", Approved: "已入库", Returned: "已退回", Superseded: "已被新表替代",
}

// Label is the state's Chinese name.
func (s State) Label() string {
	if l, ok := stateLabels[s]; ok {
		return l
	}
	return string(s)
}

// Step is what someone does to a form.
type Step string

// The steps: a clerk saves a draft or submits; a reviewer approves or
// returns; a clerk revises an approved form (a new form supersedes it).
const (
	StepSave    Step = "save"
	StepSubmit  Step = "submit"
	StepApprove Step = "approve"
	StepReturn  Step = "return"
	StepRevise  Step = "revise"
)

// Next is the one place the form's state machine is written: the state
// step leads to from s, or a Conflict error saying in Chinese why not.
// For StepRevise the result is the old form's state (superseded); the new
// form starts as a draft.
func Next(s State, step Step) (State, error) {
	switch step {
	case StepSave, StepSubmit:
		switch s {
		case Pending, Draft, Returned:
			if step == StepSave {
				return Draft, nil
			}
			return Submitted, nil
		case Submitted:
			return s, apperr.Conflictf("该调查表已提交，正在等待审核，不能修改")
		case Approved:
			return s, apperr.Conflictf("该调查表已入库，不能修改；如需更正请新建调查表替代")
		}
	case StepApprove, StepReturn:
		if s == Submitted {
			if step == StepApprove {
				return Approved, nil
			}
			return Returned, nil
		}
		return s, apperr.Conflictf("该调查表当前为“%s”，只有已提交的调查表可以审核", s.Label())
	case StepRevise:
		if s == Approved {
			return Superseded, nil
		}
		return s, apperr.Conflictf("只有已入库的调查表可以新建替代表（当前为“%s”）", s.Label())
	}
	return s, apperr.Conflictf("该调查表已被新表替代，不能再操作")
}
