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
	"context"
	"time"

	kubeletconfig "k8s.io/kubernetes/pkg/kubelet/apis/config"
)

// noopManager is the pull manager when KubeletEnsureSecretPulledImages is
// off: it writes nothing and lets every pod use every present image, which
// is the behaviour before the feature.
type noopManager struct{}

var _ Manager = noopManager{}

// NewNoopPullManager returns the pull manager for the feature gate off.
func NewNoopPullManager() Manager { return noopManager{} }

func (noopManager) RecordPullIntent(context.Context, string) error { return nil }

func (noopManager) RecordImagePulled(context.Context, string, string, *kubeletconfig.ImagePullCredentials) error {
	return nil
}

func (noopManager) RecordImagePullFailed(context.Context, string) {}

func (noopManager) MustAttemptImagePull(context.Context, string, string, GetPodCredentials) (Decision, error) {
	return Decision{Verification: VerificationGateOff}, nil
}

func (noopManager) PruneUnknownRecords(context.Context, []string, time.Time) ([]string, error) {
	return nil, nil
}

func (noopManager) Close() error { return nil }

func (noopManager) Writable() error { return nil }
