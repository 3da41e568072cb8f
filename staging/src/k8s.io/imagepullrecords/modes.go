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
	"fmt"
	"path/filepath"
)

// TightenFileMode sets FileMode on the file at rel (relative to the manager
// directory, as Walk reports it). A writer that found a loose mode while
// walking calls it, so start-up needs no second pass over the files.
func (s *Store) TightenFileMode(rel string) error {
	if s.readOnly {
		return ErrReadOnly
	}
	path := filepath.Join(s.managerDir, rel)
	// chmod follows symlinks: an entry that is no longer the regular file
	// the walk read is left alone rather than tightening what it points to.
	info, err := s.fs.Lstat(path)
	if err != nil {
		return fmt.Errorf("tightening the mode of %s: %w", path, err)
	}
	if !info.Mode().IsRegular() {
		return fmt.Errorf("tightening the mode of %s: %w (found %s)", path, ErrNotRegular, describeMode(info.Mode()))
	}
	if err := s.fs.Chmod(path, FileMode); err != nil {
		return fmt.Errorf("tightening the mode of %s: %w", path, err)
	}
	return nil
}
