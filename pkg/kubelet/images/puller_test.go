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

package images

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/klog/v2/ktesting"
	"k8s.io/utils/ptr"
)

// waitStarted waits for n pulls to start in the fake runtime.
func waitStarted(t *testing.T, started <-chan struct{}, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		select {
		case <-started:
		case <-time.After(time.Minute):
			t.Fatalf("only %d of %d pulls started", i, n)
		}
	}
}

// TestParallelPullLimit: never more PullImage calls in flight than the
// bound, and the bound is reached; bounds above 31 work.
func TestParallelPullLimit(t *testing.T) {
	tests := []struct {
		name        string
		serialize   bool
		maxParallel *int32
		pulls       int
		// want is the concurrency the runtime must see.
		want int
	}{
		{name: "serialised", serialize: true, pulls: 4, want: 1},
		{name: "bounded", maxParallel: ptr.To[int32](3), pulls: 10, want: 3},
		{name: "bounded above 31", maxParallel: ptr.To[int32](40), pulls: 64, want: 40},
		{name: "not bounded", pulls: 8, want: 8},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, ctx := ktesting.NewTestContext(t)
			env := newTestEnv(ctx, t, envOptions{serialize: tc.serialize, maxParallel: tc.maxParallel})
			release := make(chan struct{})
			started := make(chan struct{}, tc.pulls)
			env.runtime.release, env.runtime.started, env.runtime.limit = release, started, tc.want

			results := make([]EnsureResult, tc.pulls)
			errs := make([]error, tc.pulls)
			var wg sync.WaitGroup
			for i := 0; i < tc.pulls; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					results[i], errs[i] = env.ensure(ctx, newPod(nsX, fmt.Sprintf("pod-%d", i), privateApp, v1.PullAlways, "s1"))
				}()
			}
			// The bound fills up, then each release lets one more pull in.
			waitStarted(t, started, tc.want)
			for i := 0; i < tc.pulls; i++ {
				release <- struct{}{}
			}
			wg.Wait()

			for i := range results {
				if errs[i] != nil || results[i].ImageRef != privateAppID {
					t.Errorf("pod-%d = %+v, %v; want admitted", i, results[i], errs[i])
				}
			}
			env.runtime.mu.Lock()
			defer env.runtime.mu.Unlock()
			if env.runtime.overLimit != 0 || env.runtime.maxInFlight != tc.want {
				t.Errorf("pulls in flight: max %d, %d over the bound; want max %d", env.runtime.maxInFlight, env.runtime.overLimit, tc.want)
			}
			if got := len(env.runtime.pulls); got != tc.pulls {
				t.Errorf("runtime pulls = %d, want %d", got, tc.pulls)
			}
		})
	}
}

// TestStop: Stop cancels the pull in flight, refuses the waiting and later
// ones, and returns once they have ended.
func TestStop(t *testing.T) {
	_, ctx := ktesting.NewTestContext(t)
	env := newTestEnv(ctx, t, envOptions{serialize: true})
	started := make(chan struct{}, 2)
	env.runtime.release, env.runtime.started = make(chan struct{}), started

	type outcome struct {
		res EnsureResult
		err error
	}
	running := make(chan outcome, 1)
	go func() {
		res, err := env.ensure(ctx, newPod(nsX, "running", privateApp, v1.PullAlways, "s1"))
		running <- outcome{res: res, err: err}
	}()
	waitStarted(t, started, 1)
	waiting := make(chan outcome, 1)
	go func() {
		res, err := env.ensure(ctx, newPod(nsX, "waiting", publicTool, v1.PullAlways))
		waiting <- outcome{res: res, err: err}
	}()

	env.manager.Stop()
	got := <-running
	if !errors.Is(got.err, ErrImagePull) || !errors.Is(got.err, context.Canceled) || !got.res.PullAttempted {
		t.Errorf("the running pull = %+v, %v; want ErrImagePull after a cancelled attempt", got.res, got.err)
	}
	got = <-waiting
	if !errors.Is(got.err, ErrImagePull) || got.res.PullAttempted {
		t.Errorf("the waiting pull = %+v, %v; want ErrImagePull without an attempt", got.res, got.err)
	}
	res, err := env.ensure(ctx, newPod(nsX, "later", publicTool, v1.PullAlways))
	if !errors.Is(err, errPullerStopped) || res.PullAttempted {
		t.Errorf("a pull after Stop = %+v, %v; want errPullerStopped without an attempt", res, err)
	}
	if pulls := env.runtime.pullLog(); len(pulls) != 1 {
		t.Errorf("runtime pulls = %v, want only the one that was running", pulls)
	}
	if intents := env.intentFiles(); len(intents) != 0 {
		t.Errorf("intents left after Stop: %v", intents)
	}
}
