// Package apperr gives domain errors a kind and a message for users, so the
// HTTP layer can pick a status and the CLI can print something useful,
// without either knowing the domain.
package apperr

import (
	"errors"
	"fmt"
)

// Kind says what went wrong from the user's point of view.
type Kind int

// Error kinds, mapped to HTTP statuses by the web layer.
const (
	Internal Kind = iota
	NotFound
	Invalid
	Conflict
	Forbidden
)

// Error is a domain error with a user-facing Chinese message.
type Error struct {
	Kind Kind
	Msg  string
	Err  error // the cause, for logs; never shown to users
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Msg + ": " + e.Err.Error()
	}
	return e.Msg
}

func (e *Error) Unwrap() error { return e.Err }

// New returns an error of kind with a message (printf-style).
func New(kind Kind, format string, args ...any) error {
	return &Error{Kind: kind, Msg: fmt.Sprintf(format, args...)}
}

// NotFoundf is the usual "不存在" error; also used for things outside a user's region.
func NotFoundf(format string, args ...any) error { return New(NotFound, format, args...) }

// Invalidf reports bad input.
func Invalidf(format string, args ...any) error { return New(Invalid, format, args...) }

// Conflictf reports a clash with existing data.
func Conflictf(format string, args ...any) error { return New(Conflict, format, args...) }

// Forbiddenf reports a missing permission.
func Forbiddenf(format string, args ...any) error { return New(Forbidden, format, args...) }

// KindOf returns the kind of err (Internal for plain errors).
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Internal
}

// Message returns the user-facing message of err, or a generic one.
func Message(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Msg
	}
	return "系统内部错误，请稍后再试或联系管理员"
}
