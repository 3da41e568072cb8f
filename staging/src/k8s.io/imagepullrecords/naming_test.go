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

package imagepullrecords

import (
	"strings"
	"testing"
)

// Expected hashes computed with `printf '%s' KEY | sha256sum`.
func TestFileNameAndKeyHash(t *testing.T) {
	tests := []struct {
		name string
		key  string
		want string
	}{
		{name: "image string", key: "reg.example/team/app:1.2", want: "b4a05af84af4a10bdb75d0cc21dc888fb36efc13d3f6d03f99c94cca45a40714"},
		{name: "image ref", key: goldenImageRef, want: "6c4819230abb345a10f78a425f8d54569ad6cbb6b2c9d3571941d0a16c3fce7d"},
		{name: "familiar form is not normalised", key: "docker.io/library/busybox:1.36", want: "d55432289a2f69dad7e00346d00e8d4df4d0053a44dffb3f8cf463f6e3fb4b04"},
		{name: "empty", key: "", want: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := KeyHash(tc.key); got != tc.want {
				t.Errorf("KeyHash(%q) = %q, want %q", tc.key, got, tc.want)
			}
			if got, want := FileName(tc.key), "sha256-"+tc.want; got != want {
				t.Errorf("FileName(%q) = %q, want %q", tc.key, got, want)
			}
			hash, ok := HashFromFileName(FileName(tc.key))
			if !ok || hash != tc.want {
				t.Errorf("HashFromFileName(FileName(%q)) = %q, %v, want %q, true", tc.key, hash, ok, tc.want)
			}
		})
	}
}

func TestHashFromFileName(t *testing.T) {
	valid := "b4a05af84af4a10bdb75d0cc21dc888fb36efc13d3f6d03f99c94cca45a40714"
	tests := []struct {
		name     string
		fileName string
		wantHash string
		wantOK   bool
	}{
		{name: "valid", fileName: "sha256-" + valid, wantHash: valid, wantOK: true},
		{name: "all digits", fileName: "sha256-" + strings.Repeat("0", 64), wantHash: strings.Repeat("0", 64), wantOK: true},
		{name: "uppercase hex", fileName: "sha256-" + strings.ToUpper(valid)},
		{name: "one uppercase digit", fileName: "sha256-B" + valid[1:]},
		{name: "short", fileName: "sha256-" + valid[:63]},
		{name: "long", fileName: "sha256-" + valid + "0"},
		{name: "no prefix", fileName: valid},
		{name: "other algorithm", fileName: "sha512-" + valid},
		{name: "uppercase prefix", fileName: "SHA256-" + valid},
		{name: "colon instead of dash", fileName: "sha256:" + valid},
		{name: "not hex", fileName: "sha256-zz"},
		{name: "non-hex letter", fileName: "sha256-g" + valid[1:]},
		{name: "prefix only", fileName: "sha256-"},
		{name: "temporary suffix", fileName: "sha256-" + valid + ".tmp"},
		{name: "empty", fileName: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hash, ok := HashFromFileName(tc.fileName)
			if hash != tc.wantHash || ok != tc.wantOK {
				t.Errorf("HashFromFileName(%q) = %q, %v, want %q, %v", tc.fileName, hash, ok, tc.wantHash, tc.wantOK)
			}
		})
	}
}

func TestIsTemporaryAndIsRecordName(t *testing.T) {
	hashed := FileName("reg.example/team/app:1.2")
	tests := []struct {
		name           string
		fileName       string
		wantTemporary  bool
		wantRecordName bool
	}{
		{name: "our temporary", fileName: ".tmp-abc", wantTemporary: true},
		{name: "our temporary, bare prefix", fileName: ".tmp-", wantTemporary: true},
		{name: "released kubelet temporary", fileName: hashed + ".tmp", wantTemporary: true},
		{name: "short temporary", fileName: "sha256-x.tmp", wantTemporary: true},
		{name: "record", fileName: hashed, wantRecordName: true},
		// A malformed name with the prefix is read and reported, not ignored.
		{name: "malformed record name", fileName: "sha256-zz", wantRecordName: true},
		{name: "tmp without dot prefix", fileName: "tmp-abc"},
		{name: "tmp in the middle", fileName: hashed + ".tmp.json", wantRecordName: true},
		{name: "no prefix", fileName: "README"},
		{name: "lock file", fileName: ".lock"},
		{name: "empty", fileName: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := IsTemporary(tc.fileName); got != tc.wantTemporary {
				t.Errorf("IsTemporary(%q) = %v, want %v", tc.fileName, got, tc.wantTemporary)
			}
			if got := isRecordName(tc.fileName); got != tc.wantRecordName {
				t.Errorf("isRecordName(%q) = %v, want %v", tc.fileName, got, tc.wantRecordName)
			}
		})
	}
}
