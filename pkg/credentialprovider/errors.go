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

package credentialprovider

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
)

// ErrInvalidDockerConfig is wrapped by every error about docker
// configuration content that cannot be parsed.
var ErrInvalidDockerConfig = errors.New("invalid docker config")

// Format names a docker configuration format in errors.
type Format string

// The docker configuration formats.
const (
	// FormatDockerConfigJSON is `config.json` / `.dockerconfigjson`: {"auths":{...}}.
	FormatDockerConfigJSON Format = "config.json"
	// FormatDockercfg is the legacy `.dockercfg`: the registry map itself.
	FormatDockercfg Format = ".dockercfg"
)

// ParseError describes docker configuration content that cannot be parsed.
// It deliberately holds no part of the content (see the package doc), only
// where and why parsing failed.
type ParseError struct {
	// Format is the format the content was parsed as; empty when the
	// content was too broken to tell.
	Format Format
	// Offset is the byte offset at which the problem was found, or -1 when
	// it is not known.
	Offset int64
	// Reason is a fixed description of the problem.
	Reason string
}

// Error reports the format, reason and offset.
func (e *ParseError) Error() string {
	msg := ErrInvalidDockerConfig.Error()
	if e.Format != "" {
		msg += fmt.Sprintf(" (%s format)", e.Format)
	}
	msg += ": " + e.Reason
	if e.Offset >= 0 {
		msg += fmt.Sprintf(" at byte offset %d", e.Offset)
	}
	return msg
}

// Unwrap makes errors.Is(err, ErrInvalidDockerConfig) hold.
func (e *ParseError) Unwrap() error { return ErrInvalidDockerConfig }

// Reasons for auth fields that cannot be decoded. They are fixed strings so
// that no part of the field can reach an error message.
const (
	reasonAuthNotBase64   = "an entry's auth field is not valid base64"
	reasonAuthNoSeparator = "an entry's auth field does not decode to username:password"
)

// authError is an auth field decoding problem; the caller adds the format.
type authError struct{ reason string }

func (e *authError) Error() string { return e.reason }

// sanitizeJSONError turns an encoding/json error into a ParseError. The
// messages of encoding/json quote input (an offending character, a number
// literal, the path of map keys), so only their kind and offset are kept.
func sanitizeJSONError(format Format, err error) *ParseError {
	var (
		syntaxErr *json.SyntaxError
		typeErr   *json.UnmarshalTypeError
		authErr   *authError
	)
	switch {
	case errors.As(err, &syntaxErr):
		return &ParseError{Format: format, Offset: syntaxErr.Offset, Reason: "malformed JSON"}
	case errors.As(err, &typeErr):
		// Value is "string", "number 12", "array", ...: keep the kind only.
		kind, _, _ := strings.Cut(typeErr.Value, " ")
		return &ParseError{
			Format: format,
			Offset: typeErr.Offset,
			Reason: fmt.Sprintf("unexpected JSON %s where %s was expected", kind, jsonKind(typeErr.Type)),
		}
	case errors.As(err, &authErr):
		return &ParseError{Format: format, Offset: -1, Reason: authErr.reason}
	default:
		return &ParseError{Format: format, Offset: -1, Reason: "malformed JSON"}
	}
}

// jsonKind names the JSON kind a Go type decodes from.
func jsonKind(t reflect.Type) string {
	if t == nil {
		return "a value"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Map, reflect.Struct:
		return "an object"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Bool:
		return "a boolean"
	default:
		return "a value"
	}
}
