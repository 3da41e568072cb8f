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
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

const (
	// ManagerDirName is the directory under the kubelet root dir that holds
	// the records.
	ManagerDirName = "image_manager"
	// IntentsDirName holds ImagePullIntent files.
	IntentsDirName = "pulling"
	// RecordsDirName holds ImagePulledRecord files.
	RecordsDirName = "pulled"
	// LockFileName is the writer lock inside ManagerDirName.
	LockFileName = ".lock"

	// FilePrefix starts the name of every record and intent file.
	FilePrefix = "sha256-"
	// TempPrefix starts the name of this package's temporary files.
	TempPrefix = ".tmp-"
	// legacyTempSuffix ends the name of released kubelets' temporary files.
	legacyTempSuffix = ".tmp"
)

// FileName returns the file name for key: "sha256-" and the lowercase hex
// SHA-256 of key.
func FileName(key string) string {
	return FilePrefix + KeyHash(key)
}

// KeyHash returns the lowercase hex SHA-256 of key, the part of a file name
// after FilePrefix.
func KeyHash(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// IsTemporary reports whether name is a temporary file left by this package
// or by a released kubelet.
func IsTemporary(name string) bool {
	return strings.HasPrefix(name, TempPrefix) || strings.HasSuffix(name, legacyTempSuffix)
}

// HashFromFileName returns the hash part of a record or intent file name, and
// whether name is one: "sha256-" followed by exactly 64 lowercase hex digits.
func HashFromFileName(name string) (string, bool) {
	if !strings.HasPrefix(name, FilePrefix) {
		return "", false
	}
	h := name[len(FilePrefix):]
	if len(h) != sha256.Size*2 {
		return "", false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return "", false
		}
	}
	return h, true
}

// isRecordName reports whether a directory entry is meant to be read at all:
// not a temporary and carrying the "sha256-" prefix. A name with the prefix
// but a malformed hash is read and reported as an error.
func isRecordName(name string) bool {
	return !IsTemporary(name) && strings.HasPrefix(name, FilePrefix)
}
