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

package main

import (
	"encoding/json"
	"fmt"
	"os"
)

const (
	resultOK    = "ok"
	resultError = "error"
)

// execLogEntry is one line of the exec log (TOKEN_EXCHANGE_EXEC_LOG). It
// never holds the token or a password.
type execLogEntry struct {
	Image          string `json:"image"`
	Mode           Mode   `json:"mode"`
	ServiceAccount string `json:"serviceAccount"`
	Tenant         string `json:"tenant"`
	Result         string `json:"result"`
	Error          string `json:"error,omitempty"`
}

// appendExecLog appends the entry as one JSON line; no path, no log. Each
// line is a single write on an O_APPEND file, so the lines of concurrent
// execs land whole, one after another.
func appendExecLog(path string, e execLogEntry) error {
	if path == "" {
		return nil
	}
	line, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("exec log: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("exec log: %w", err)
	}
	if _, err := f.Write(append(line, '\n')); err != nil {
		_ = f.Close()
		return fmt.Errorf("exec log: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("exec log: %w", err)
	}
	return nil
}
