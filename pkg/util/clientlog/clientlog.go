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

// Package clientlog keeps client-go from logging what the API server sends
// back to a node component that handles credentials.
//
// client-go logs each request through the logger of the request's context:
// method, URL, status and latency from verbosity 6, request headers from 7
// and request and response bodies from 8 (rest.Request and the debugging
// round tripper). The bodies the image manager reads are Secrets (their
// data), TokenRequests (a service account token), ServiceAccounts (their
// annotations, which configure credential provider plugins) and metadata
// lists (annotations again, kubectl's last-applied-configuration among
// them, which carries a Secret's data). Running a node tool at -v=10 to
// debug a decision must not put any of that in its logs.
package clientlog

import (
	"context"

	"k8s.io/klog/v2"
)

// MaxVerbosity is the highest verbosity at which client-go may log the
// requests made with a context from WithoutBodies: method, URL, status
// and latency.
const MaxVerbosity = 6

// WithoutBodies returns ctx with its logger capped at MaxVerbosity, for
// the API requests made with it: informational messages above that level
// are dropped, errors pass. The caller's own logging uses the original
// context.
func WithoutBodies(ctx context.Context) context.Context {
	sink := klog.FromContext(ctx).GetSink()
	if sink == nil {
		return ctx
	}
	if c, ok := sink.(cappedSink); ok && c.max <= MaxVerbosity {
		return ctx
	}
	return klog.NewContext(ctx, klog.New(cappedSink{LogSink: sink, max: MaxVerbosity}))
}

// cappedSink drops informational messages above max: loggers ask Enabled
// before every Info.
type cappedSink struct {
	klog.LogSink
	max int
}

func (s cappedSink) Enabled(level int) bool { return level <= s.max && s.LogSink.Enabled(level) }

// WithValues and WithName keep the cap on derived loggers.
func (s cappedSink) WithValues(keysAndValues ...any) klog.LogSink {
	return cappedSink{LogSink: s.LogSink.WithValues(keysAndValues...), max: s.max}
}

func (s cappedSink) WithName(name string) klog.LogSink {
	return cappedSink{LogSink: s.LogSink.WithName(name), max: s.max}
}

// WithCallDepth keeps the caller's file and line right in log lines.
func (s cappedSink) WithCallDepth(depth int) klog.LogSink {
	if cd, ok := s.LogSink.(interface{ WithCallDepth(int) klog.LogSink }); ok {
		return cappedSink{LogSink: cd.WithCallDepth(depth), max: s.max}
	}
	return s
}
