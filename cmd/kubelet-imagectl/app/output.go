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
	"encoding/json"
	"io"

	"github.com/spf13/cobra"
)

// Output formats of -o.
const (
	outputText = "text"
	outputJSON = "json"
)

// addOutputFlag adds -o/--output with the text default.
func addOutputFlag(cmd *cobra.Command, output *string) {
	cmd.Flags().StringVarP(output, "output", "o", outputText, "Output format: text (a table) or json (one object per line).")
}

// checkOutputFormat refuses an unknown -o value.
func checkOutputFormat(output string) error {
	switch output {
	case outputText, outputJSON:
		return nil
	}
	return usageErrorf("--output %s: want %q or %q", quote(output), outputText, outputJSON)
}

// writeJSONLine writes v as one line of compact JSON.
func writeJSONLine(w io.Writer, v any) error {
	return json.NewEncoder(w).Encode(v)
}
