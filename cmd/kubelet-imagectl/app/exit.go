/*
Copyright The Kubernetes Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package app

import (
	"errors"
	"fmt"
	"strings"
)

// Exit codes of kubelet-imagectl. They are part of the tool's interface:
// scripts on nodes branch on them.
const (
	// ExitOK: every container was admitted (or, for records commands, the
	// command did what it was asked).
	ExitOK = 0
	// ExitNotAdmitted: at least one container was denied or failed.
	ExitNotAdmitted = 1
	// ExitUsage: bad flags, bad input files or an invalid configuration.
	// Nothing is written to stdout and one line to stderr.
	ExitUsage = 2
	// ExitEnvironment: the environment is not usable: the container runtime
	// is unreachable, the API server failed or the Pod does not exist, or
	// the root directory is unwritable or locked by another writer.
	ExitEnvironment = 3
)

// exitError carries the exit code a command ends with.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// usageErrorf returns an error ending the command with ExitUsage.
func usageErrorf(format string, args ...any) error {
	return &exitError{code: ExitUsage, err: fmt.Errorf(format, args...)}
}

// environmentErrorf returns an error ending the command with
// ExitEnvironment.
func environmentErrorf(format string, args ...any) error {
	return &exitError{code: ExitEnvironment, err: fmt.Errorf(format, args...)}
}

// errNotAdmitted ends ensure with ExitNotAdmitted after its output was
// written; it prints nothing.
var errNotAdmitted = &exitError{code: ExitNotAdmitted, err: errors.New("some containers were not admitted")}

// exitCodeOf maps a command's error to its exit code. Errors that are not
// an exitError come from cobra's own flag and argument checks, so they are
// usage errors.
func exitCodeOf(err error) int {
	if err == nil {
		return ExitOK
	}
	var e *exitError
	if errors.As(err, &e) {
		return e.code
	}
	return ExitUsage
}

// oneLine folds a possibly multi-line error message into one line, so that
// stderr carries exactly one line per failure.
func oneLine(msg string) string {
	msg = strings.TrimSpace(msg)
	return strings.Join(strings.FieldsFunc(msg, func(r rune) bool { return r == '\n' || r == '\r' }), "; ")
}
