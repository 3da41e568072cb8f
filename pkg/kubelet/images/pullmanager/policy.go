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

package pullmanager

import (
	"fmt"
	"strings"

	kubeletconfig "k8s.io/kubernetes/pkg/kubelet/apis/config"
)

// verificationPolicy is the configured imagePullCredentialsVerificationPolicy
// with its allowlist compiled for matching repo(image).
type verificationPolicy struct {
	policy kubeletconfig.ImagePullCredentialsVerificationPolicy
	// exact holds allowlist entries matched as whole repository names.
	exact map[string]struct{}
	// prefixes holds "P/" for every "P/*" entry.
	prefixes []string
}

// newVerificationPolicy compiles a validated policy and allowlist. Entries
// are expected to have passed configuration validation; an entry ending in
// "/*" matches every repository under it at any depth, any other entry
// matches one normalised repository name exactly.
func newVerificationPolicy(policy kubeletconfig.ImagePullCredentialsVerificationPolicy, allowlist []string) (*verificationPolicy, error) {
	switch policy {
	case kubeletconfig.NeverVerify, kubeletconfig.NeverVerifyPreloadedImages,
		kubeletconfig.NeverVerifyAllowlistedImages, kubeletconfig.AlwaysVerify:
	case "":
		// An unset policy behaves as the default of the enabled feature.
		policy = kubeletconfig.NeverVerifyPreloadedImages
	default:
		return nil, fmt.Errorf("unknown image pull credentials verification policy %q", policy)
	}
	p := &verificationPolicy{policy: policy, exact: map[string]struct{}{}}
	for _, entry := range allowlist {
		if prefix, ok := strings.CutSuffix(entry, "/*"); ok {
			p.prefixes = append(p.prefixes, prefix+"/")
		} else {
			p.exact[entry] = struct{}{}
		}
	}
	return p, nil
}

// allowlisted reports whether repo (a normalised repository name) matches
// the allowlist.
func (p *verificationPolicy) allowlisted(repo string) bool {
	if _, ok := p.exact[repo]; ok {
		return true
	}
	for _, prefix := range p.prefixes {
		if strings.HasPrefix(repo, prefix) {
			return true
		}
	}
	return false
}
