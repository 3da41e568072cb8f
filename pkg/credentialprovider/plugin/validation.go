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
	"io/fs"
	"net"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"unicode"

	"k8s.io/apimachinery/pkg/util/sets"
	utilvalidation "k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	kubeletconfigv1 "k8s.io/kubelet/config/v1"
	credentialproviderv1 "k8s.io/kubelet/pkg/apis/credentialprovider/v1"
	credentialproviderv1alpha1 "k8s.io/kubelet/pkg/apis/credentialprovider/v1alpha1"
	credentialproviderv1beta1 "k8s.io/kubelet/pkg/apis/credentialprovider/v1beta1"
)

// The exec protocol versions a provider's apiVersion may name.
var (
	ExecAPIVersionV1       = credentialproviderv1.SchemeGroupVersion.String()
	ExecAPIVersionV1beta1  = credentialproviderv1beta1.SchemeGroupVersion.String()
	ExecAPIVersionV1alpha1 = credentialproviderv1alpha1.SchemeGroupVersion.String()
)

// gateOffDetail is the reason given for tokenAttributes with the gate off.
const gateOffDetail = "not allowed when the KubeletServiceAccountTokenForCredentialProviders feature gate is disabled"

// ValidateConfig validates cfg as strictly as the kubelet does before it
// runs any plugin; configPath is only used in messages. binDir is where the
// plugins are (--image-credential-provider-bin-dir): every provider's name
// must be an executable regular file there. saTokens is the effective
// KubeletServiceAccountTokenForCredentialProviders gate: off, no provider may
// set tokenAttributes. Every problem is reported, in one *ConfigError
// wrapping ErrInvalidConfig; nil means valid.
func ValidateConfig(cfg *kubeletconfigv1.CredentialProviderConfig, configPath, binDir string, saTokens bool) error {
	var errs field.ErrorList
	if cfg == nil || len(cfg.Providers) == 0 {
		errs = append(errs, field.Required(field.NewPath("providers"), "at least one provider is required"))
		return &ConfigError{Path: configPath, Fields: errs}
	}
	names := sets.New[string]()
	for i := range cfg.Providers {
		p := &cfg.Providers[i]
		fldPath := field.NewPath("providers").Index(i)
		errs = append(errs, validateName(p.Name, fldPath.Child("name"), binDir, names)...)
		errs = append(errs, validateMatchImages(p.MatchImages, fldPath.Child("matchImages"))...)
		switch {
		case p.DefaultCacheDuration == nil:
			errs = append(errs, field.Required(fldPath.Child("defaultCacheDuration"), ""))
		case p.DefaultCacheDuration.Duration < 0:
			errs = append(errs, field.Invalid(fldPath.Child("defaultCacheDuration"), p.DefaultCacheDuration.Duration.String(), "must be greater than or equal to 0"))
		}
		switch p.APIVersion {
		case "":
			errs = append(errs, field.Required(fldPath.Child("apiVersion"), ""))
		case ExecAPIVersionV1, ExecAPIVersionV1beta1, ExecAPIVersionV1alpha1:
		default:
			errs = append(errs, field.NotSupported(fldPath.Child("apiVersion"), p.APIVersion,
				[]string{ExecAPIVersionV1, ExecAPIVersionV1beta1, ExecAPIVersionV1alpha1}))
		}
		for j, env := range p.Env {
			if env.Name == "" {
				errs = append(errs, field.Required(fldPath.Child("env").Index(j).Child("name"), ""))
			}
		}
		if p.TokenAttributes != nil {
			errs = append(errs, validateTokenAttributes(p.TokenAttributes, p.APIVersion, fldPath.Child("tokenAttributes"), saTokens)...)
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return &ConfigError{Path: configPath, Fields: errs}
}

// validateName checks that name is a bare file name, unique, and an
// executable regular file in binDir.
func validateName(name string, fldPath *field.Path, binDir string, seen sets.Set[string]) field.ErrorList {
	switch {
	case name == "":
		return field.ErrorList{field.Required(fldPath, "")}
	case strings.ContainsRune(name, '/') || strings.ContainsRune(name, filepath.Separator):
		return field.ErrorList{field.Invalid(fldPath, name, "must be a file name in the plugin bin dir, without '/'")}
	case name == "." || name == "..":
		return field.ErrorList{field.Invalid(fldPath, name, "must be a file name in the plugin bin dir, not '.' or '..'")}
	case strings.ContainsRune(name, 0):
		return field.ErrorList{field.Invalid(fldPath, name, "must not contain a NUL byte")}
	case seen.Has(name):
		return field.ErrorList{field.Duplicate(fldPath, name)}
	}
	seen.Insert(name)
	if binDir == "" {
		return field.ErrorList{field.Invalid(fldPath, name, "no plugin bin dir (--image-credential-provider-bin-dir) to find the plugin in")}
	}
	binary := filepath.Join(binDir, name)
	// Stat follows symlinks: a plugin installed as a link to its release is
	// common, and what is executed is the target.
	info, err := os.Stat(binary)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return field.ErrorList{field.Invalid(fldPath, name, fmt.Sprintf("no such plugin in %q", binDir))}
	case err != nil:
		return field.ErrorList{field.Invalid(fldPath, name, fmt.Sprintf("cannot inspect the plugin: %v", err))}
	case !info.Mode().IsRegular():
		return field.ErrorList{field.Invalid(fldPath, name, fmt.Sprintf("%q is not a regular file", binary))}
	case info.Mode().Perm()&0o111 == 0:
		return field.ErrorList{field.Invalid(fldPath, name, fmt.Sprintf("%q is not executable", binary))}
	}
	return nil
}

// validateMatchImages checks that there is at least one pattern and that
// each is valid.
func validateMatchImages(patterns []string, fldPath *field.Path) field.ErrorList {
	if len(patterns) == 0 {
		return field.ErrorList{field.Required(fldPath, "at least one pattern is required")}
	}
	var errs field.ErrorList
	for i, p := range patterns {
		if p == "" {
			errs = append(errs, field.Required(fldPath.Index(i), ""))
			continue
		}
		if reason := matchImageProblem(p); reason != "" {
			errs = append(errs, field.Invalid(fldPath.Index(i), p, reason))
		}
	}
	return errs
}

// globChars are the characters that make a host label a glob (path.Match
// syntax).
const globChars = "*?["

// matchImageProblem returns why p is not a valid matchImages pattern, or ""
// when it is: host[:port][/path], with host labels that are names or globs
// per label ('*.k8s.io', 'k8s.*.io', 'app*.k8s.io'), a numeric port, a path
// without globs, and no scheme.
func matchImageProblem(p string) string {
	if strings.Contains(p, "://") {
		return "must not have a scheme"
	}
	if strings.ContainsFunc(p, unicode.IsSpace) {
		return "must not contain white space"
	}
	hostPort, imagePath, _ := strings.Cut(p, "/")
	host, port, hasPort := hostPort, "", false
	if strings.HasPrefix(hostPort, "[") {
		end := strings.Index(hostPort, "]")
		if end < 0 {
			return "has an unterminated IPv6 address"
		}
		if ip := net.ParseIP(hostPort[1:end]); ip == nil || ip.To4() != nil {
			return "has an invalid IPv6 address"
		}
		rest := hostPort[end+1:]
		if rest != "" {
			var found bool
			if port, found = strings.CutPrefix(rest, ":"); !found {
				return "has characters after the IPv6 address that are not a port"
			}
			hasPort = true
		}
		host = ""
	} else if h, pt, found := strings.Cut(hostPort, ":"); found {
		host, port, hasPort = h, pt, true
	}
	if hasPort {
		if strings.ContainsAny(port, globChars) {
			return "the port must not be a glob"
		}
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 || strconv.Itoa(n) != port {
			return "the port must be a number from 1 to 65535"
		}
	}
	if host == "" && !strings.HasPrefix(hostPort, "[") {
		return "has no host"
	}
	if host != "" {
		for label := range strings.SplitSeq(host, ".") {
			if reason := hostLabelProblem(label); reason != "" {
				return reason
			}
		}
	}
	if strings.ContainsAny(imagePath, globChars+"]") {
		return "the path must not contain globs"
	}
	return ""
}

// hostLabelProblem returns why label is not a valid host label or host
// label glob, or "".
func hostLabelProblem(label string) string {
	if label == "" {
		return "has an empty host label"
	}
	for _, r := range label {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-':
		case strings.ContainsRune(globChars+"]^", r):
		default:
			return fmt.Sprintf("host label %q has the character %q, which is neither a host name character nor a glob", label, r)
		}
	}
	if strings.ContainsAny(label, globChars) {
		if _, err := path.Match(label, ""); err != nil {
			return fmt.Sprintf("host label %q is not a valid glob", label)
		}
	}
	return ""
}

// validateTokenAttributes checks a provider's tokenAttributes; apiVersion is
// the provider's exec protocol version.
func validateTokenAttributes(attrs *kubeletconfigv1.ServiceAccountTokenAttributes, apiVersion string, fldPath *field.Path, saTokens bool) field.ErrorList {
	if !saTokens {
		// The rest is not checked: the field cannot be used at all.
		return field.ErrorList{field.Forbidden(fldPath, gateOffDetail)}
	}
	var errs field.ErrorList
	if apiVersion != ExecAPIVersionV1 {
		// Older exec versions have no field to carry a token in.
		errs = append(errs, field.Forbidden(fldPath, fmt.Sprintf("only allowed with apiVersion %s, not %q", ExecAPIVersionV1, apiVersion)))
	}
	if attrs.ServiceAccountTokenAudience == "" {
		errs = append(errs, field.Required(fldPath.Child("serviceAccountTokenAudience"), ""))
	}
	switch attrs.CacheType {
	case "":
		errs = append(errs, field.Required(fldPath.Child("cacheType"), ""))
	case kubeletconfigv1.TokenServiceAccountTokenCacheType, kubeletconfigv1.ServiceAccountServiceAccountTokenCacheType:
	default:
		errs = append(errs, field.NotSupported(fldPath.Child("cacheType"), string(attrs.CacheType),
			[]kubeletconfigv1.ServiceAccountTokenCacheType{kubeletconfigv1.TokenServiceAccountTokenCacheType, kubeletconfigv1.ServiceAccountServiceAccountTokenCacheType}))
	}
	if attrs.RequireServiceAccount == nil {
		errs = append(errs, field.Required(fldPath.Child("requireServiceAccount"), ""))
	}
	required := sets.New[string]()
	errs = append(errs, validateAnnotationKeys(attrs.RequiredServiceAccountAnnotationKeys, fldPath.Child("requiredServiceAccountAnnotationKeys"), required, nil)...)
	errs = append(errs, validateAnnotationKeys(attrs.OptionalServiceAccountAnnotationKeys, fldPath.Child("optionalServiceAccountAnnotationKeys"), sets.New[string](), required)...)
	if len(attrs.RequiredServiceAccountAnnotationKeys) > 0 && attrs.RequireServiceAccount != nil && !*attrs.RequireServiceAccount {
		errs = append(errs, field.Invalid(fldPath.Child("requireServiceAccount"), false, "must be true when requiredServiceAccountAnnotationKeys is not empty"))
	}
	return errs
}

// validateAnnotationKeys checks that keys are valid annotation keys and
// unique (recording them in seen), and that none is in exclusive.
func validateAnnotationKeys(keys []string, fldPath *field.Path, seen, exclusive sets.Set[string]) field.ErrorList {
	var errs field.ErrorList
	for i, k := range keys {
		p := fldPath.Index(i)
		// Annotation keys are qualified names, compared case-insensitively
		// for validity as the API server's annotation validation does.
		if msgs := utilvalidation.IsQualifiedName(strings.ToLower(k)); len(msgs) > 0 {
			errs = append(errs, field.Invalid(p, k, strings.Join(msgs, "; ")))
			continue
		}
		if seen.Has(k) {
			errs = append(errs, field.Duplicate(p, k))
			continue
		}
		seen.Insert(k)
		if exclusive.Has(k) {
			errs = append(errs, field.Invalid(p, k, "must not also be in requiredServiceAccountAnnotationKeys"))
		}
	}
	return errs
}
