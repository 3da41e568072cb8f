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

package plugin

import (
	"errors"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// ErrInvalidConfig is wrapped by every error about a credential provider
// configuration file that cannot be read, decoded or validated.
var ErrInvalidConfig = errors.New("invalid credential provider config")

// PluginError is a credential provider plugin that could not supply
// credentials for an image. Its message never contains a service account
// token, a credential, a service account annotation value or any byte of
// what the plugin wrote to stdout or stderr: it reaches events and logs.
type PluginError struct {
	// Plugin is the provider's name.
	Plugin string
	// Err is why.
	Err error
}

// Error names the plugin and says why it failed.
func (e *PluginError) Error() string {
	return fmt.Sprintf("credential provider plugin %q: %v", e.Plugin, e.Err)
}

// Unwrap returns the cause, so that errors.Is and errors.As see through.
func (e *PluginError) Unwrap() error { return e.Err }

// ConfigError is a configuration that failed validation: every problem
// found, each naming its field path and the bad value. It is an aggregate
// (k8s.io/apimachinery/pkg/util/errors.Aggregate): Errors returns one error
// per problem, each also naming the file.
type ConfigError struct {
	// Path is the configuration file.
	Path string
	// Fields are the problems, in the order found.
	Fields field.ErrorList
}

// Error names the file and lists every problem.
func (e *ConfigError) Error() string {
	msgs := make([]string, len(e.Fields))
	for i, fe := range e.Fields {
		msgs[i] = formatFieldError(fe)
	}
	return fmt.Sprintf("%v %q: %s", ErrInvalidConfig, e.Path, strings.Join(msgs, "; "))
}

// Errors returns one error per problem, each naming the file, the field
// path and the bad value, and each wrapping ErrInvalidConfig.
func (e *ConfigError) Errors() []error {
	out := make([]error, len(e.Fields))
	for i, fe := range e.Fields {
		out[i] = fmt.Errorf("%w %q: %s", ErrInvalidConfig, e.Path, formatFieldError(fe))
	}
	return out
}

// Is makes errors.Is(err, ErrInvalidConfig) hold.
func (e *ConfigError) Is(target error) bool { return target == ErrInvalidConfig }

// formatFieldError renders one problem as `path: what`, with the bad value
// quoted where there is one. field.Error's own rendering adds the type
// ("Forbidden: ") between the path and the reason, which reads badly for
// reasons written as sentences.
func formatFieldError(fe *field.Error) string {
	switch fe.Type {
	case field.ErrorTypeRequired:
		if fe.Detail != "" {
			return fmt.Sprintf("%s: required: %s", fe.Field, fe.Detail)
		}
		return fmt.Sprintf("%s: required", fe.Field)
	case field.ErrorTypeForbidden:
		return fmt.Sprintf("%s: %s", fe.Field, fe.Detail)
	case field.ErrorTypeDuplicate:
		return fmt.Sprintf("%s: duplicate value %s", fe.Field, quoteValue(fe.BadValue))
	case field.ErrorTypeNotSupported:
		return fmt.Sprintf("%s: unsupported value %s: %s", fe.Field, quoteValue(fe.BadValue), fe.Detail)
	default:
		if fe.Detail == "" {
			return fmt.Sprintf("%s: invalid value %s", fe.Field, quoteValue(fe.BadValue))
		}
		return fmt.Sprintf("%s: invalid value %s: %s", fe.Field, quoteValue(fe.BadValue), fe.Detail)
	}
}

func quoteValue(v any) string {
	if s, ok := v.(string); ok {
		return fmt.Sprintf("%q", s)
	}
	return fmt.Sprintf("%v", v)
}
