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
	"errors"
	"os"
	"strings"
	"syscall"
	"testing"

	"k8s.io/imagepullrecords"
	kubeletconfig "k8s.io/kubernetes/pkg/kubelet/apis/config"
)

// readOnlyFS fails every write of the record store with EROFS.
type readOnlyFS struct {
	imagepullrecords.FS
}

func erofs(op, path string) error { return &os.PathError{Op: op, Path: path, Err: syscall.EROFS} }

func (readOnlyFS) MkdirAll(path string, _ os.FileMode) error { return erofs("mkdir", path) }
func (readOnlyFS) Chmod(path string, _ os.FileMode) error    { return erofs("chmod", path) }
func (readOnlyFS) Rename(_, newpath string) error            { return erofs("rename", newpath) }
func (readOnlyFS) Remove(path string) error                  { return erofs("remove", path) }
func (readOnlyFS) CreateTemp(dir, _ string) (imagepullrecords.File, error) {
	return nil, erofs("createtemp", dir)
}
func (f readOnlyFS) OpenFile(path string, flag int, perm os.FileMode) (imagepullrecords.File, error) {
	if flag&(os.O_WRONLY|os.O_RDWR|os.O_CREATE) != 0 {
		return nil, erofs("open", path)
	}
	return f.FS.OpenFile(path, flag, perm)
}

// TestNotWritableFailsClosedUnderEveryPolicy: with image_manager read-only,
// every decision must pull (policy exemptions included) and every pull
// fails, as issue 6 asks; Writable names the directory.
func TestNotWritableFailsClosedUnderEveryPolicy(t *testing.T) {
	for _, policy := range []kubeletconfig.ImagePullCredentialsVerificationPolicy{
		kubeletconfig.NeverVerify, kubeletconfig.NeverVerifyAllowlistedImages,
		kubeletconfig.NeverVerifyPreloadedImages, kubeletconfig.AlwaysVerify,
	} {
		t.Run(string(policy), func(t *testing.T) {
			env := newTestEnv(t)
			env.fs.FS = readOnlyFS{FS: imagepullrecords.OS}
			var allowlist []string
			if policy == kubeletconfig.NeverVerifyAllowlistedImages {
				allowlist = []string{repoApp}
			}
			m := env.start(t, policy, allowlist...)
			ctx := testContext(t)
			if err := m.Writable(); !errors.Is(err, ErrRecordsNotWritable) || !strings.Contains(err.Error(), env.root) {
				t.Errorf("Writable() = %v, want ErrRecordsNotWritable naming %s", err, env.root)
			}
			creds, _ := podCreds(nil, nil, nil)
			before := checkCount(t, CheckResultError)
			if d, _ := m.MustAttemptImagePull(ctx, repoApp+":1", refA, creds); !d.MustPull {
				t.Errorf("decision = %+v, want must pull", d)
			}
			if after := checkCount(t, CheckResultError); after != before+1 {
				t.Errorf("error result went from %v to %v, want +1", before, after)
			}
			if err := m.RecordPullIntent(ctx, repoApp+":1"); err == nil {
				t.Error("RecordPullIntent succeeded on a read-only records directory")
			}
		})
	}
}
