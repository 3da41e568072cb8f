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

package framework

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// testdata/registry-2.8-access.log is the JSON log of Debian's registry
// 2.8.2 at level debug during TestSmoke (the push and storage lines left
// out), plus a curl with a wrong password.
const (
	testRepo     = "e2e/smoke-ad8db05b8825"
	testManifest = "sha256:be6717e92ee5369230bc1dce38f6f98adaf4388539ba6f4ddd69fab1f2683b0f"
)

func TestParseAccessLog(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "registry-2.8-access.log"))
	if err != nil {
		t.Fatal(err)
	}
	got := ParseAccessLog(data)

	type summary struct {
		Method, URI, Repository, Reference, User, RefusedUser string
		Status                                                int
	}
	var gotSummary []summary
	for _, e := range got {
		if e.Time.IsZero() || e.RequestID == "" {
			t.Errorf("entry without time or request id: %+v", e)
		}
		gotSummary = append(gotSummary, summary{
			Method: e.Method, URI: e.URI, Repository: e.Repository, Reference: e.Reference,
			User: e.User, RefusedUser: e.RefusedUser, Status: e.Status,
		})
	}
	manifests := "/v2/" + testRepo + "/manifests/"
	want := []summary{
		{Method: "GET", URI: "/v2/", Status: 401},
		{Method: "HEAD", URI: manifests + "v1", Repository: testRepo, Reference: "v1", Status: 401},
		{Method: "HEAD", URI: manifests + "v1", Repository: testRepo, Reference: "v1", User: "tenant-a-1", Status: 200},
		{Method: "GET", URI: manifests + testManifest, Repository: testRepo, Reference: testManifest, Status: 401},
		{Method: "GET", URI: manifests + testManifest, Repository: testRepo, Reference: testManifest, User: "tenant-a-1", Status: 200},
		{Method: "GET", URI: "/v2/" + testRepo + "/blobs/sha256:13568a5a70e624b56efee9e555b7244c805ae2823132bc2737900f10d47d3c74", Repository: testRepo, User: "tenant-a-1", Status: 200},
		{Method: "GET", URI: "/v2/" + testRepo + "/blobs/sha256:ba5b867073519761b4df917577b6f49bd2bcb0145e9ee1c33489773d299b64af", Repository: testRepo, User: "tenant-a-1", Status: 200},
		{Method: "HEAD", URI: manifests + "alias", Repository: testRepo, Reference: "alias", Status: 401},
		{Method: "HEAD", URI: manifests + "alias", Repository: testRepo, Reference: "alias", Status: 401},
		{Method: "GET", URI: "/v2/e2e/x/manifests/v1", Repository: "e2e/x", Reference: "v1", RefusedUser: "tenant-a-2", Status: 401},
	}
	if diff := cmp.Diff(want, gotSummary); diff != "" {
		t.Errorf("ParseAccessLog (-want +got):\n%s", diff)
	}

	fetches := got.ForRepository(testRepo).ManifestFetches()
	if n := len(fetches.ByUser("tenant-a-1")); n != 2 {
		t.Errorf("manifest fetches by tenant-a-1: %d, want 2 (HEAD by tag, GET by digest)", n)
	}
	if n := len(fetches.ByUser("")); n != 0 {
		t.Errorf("anonymous manifest fetches: %d, want 0", n)
	}
	if n := len(got.Since(got[len(got)-1].Time)); n != 1 {
		t.Errorf("Since(last entry's time): %d entries, want 1", n)
	}
}

func TestAccessLogReadFromOffset(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "registry-2.8-access.log"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "access.log")
	// All but the last line, and half of the last: a line being written.
	cut := len(data) - 1
	for data[cut-1] != '\n' {
		cut--
	}
	half := cut + (len(data)-cut)/2
	if err := os.WriteFile(path, data[:half], 0o644); err != nil {
		t.Fatal(err)
	}
	log := AccessLog{Path: path}

	entries, next, err := log.Read(0)
	if err != nil {
		t.Fatal(err)
	}
	if next != int64(cut) {
		t.Errorf("Read(0) next offset %d, want %d (end of the last complete line)", next, cut)
	}
	if last := entries[len(entries)-1]; last.RefusedUser != "tenant-a-2" || last.Status != 0 {
		t.Errorf("last entry before the partial line: %+v, want the refused user without its 401 yet", last)
	}

	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	offset, err := log.Offset()
	if err != nil {
		t.Fatal(err)
	}
	if offset != int64(len(data)) {
		t.Errorf("Offset %d, want %d", offset, len(data))
	}
	rest, _, err := log.Read(next)
	if err != nil {
		t.Fatal(err)
	}
	if len(rest) != 1 || rest[0].Status != 401 {
		t.Errorf("Read(next) = %+v, want the one 401 line", rest)
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	found, err := log.WaitFor(ctx, 0, func(e AccessEntry) bool {
		return e.RefusedUser == "tenant-a-2" && e.Status == 401
	})
	if err != nil {
		t.Fatalf("WaitFor: %v", err)
	}
	if diff := cmp.Diff(ParseAccessLog(data), found, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("WaitFor entries (-want +got):\n%s", diff)
	}

	ctx, cancel = context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, err := log.WaitFor(ctx, 0, func(AccessEntry) bool { return false }); err == nil {
		t.Errorf("WaitFor with no match returned no error")
	}
}
