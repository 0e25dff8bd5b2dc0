// k8s-check validates rendered Kubernetes manifests offline (kubeconform needs the web for its
// schemas): every document is decoded strictly into the typed API objects of k8s.io/api through
// client-go's scheme, so an unknown field, a wrong type or an unknown kind/apiVersion is an error.
// Beyond the types it checks what the schema cannot: each Deployment's selector matches its pod
// labels, every container has an image, probes name a declared port, every HPA and PDB targets a
// rendered Deployment, and each Service selects some rendered pods.
//
//	helm template herald deploy/helm/herald -f values.yaml | go run ./deploy/tools/k8s-check
package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes/scheme"
)

func main() {
	decoder := serializer.NewCodecFactory(scheme.Scheme, serializer.EnableStrict).UniversalDeserializer()
	reader := utilyaml.NewYAMLReader(bufio.NewReader(os.Stdin))
	var objects []runtime.Object
	var problems []string
	for n := 1; ; n++ {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			fail("reading document %d: %v", n, err)
		}
		if len(bytes.TrimSpace(stripComments(doc))) == 0 {
			continue
		}
		obj, gvk, err := decoder.Decode(doc, nil, nil)
		if err != nil {
			problems = append(problems, fmt.Sprintf("document %d (%s): %v", n, source(doc), err))
			continue
		}
		fmt.Printf("ok   %s/%s %s\n", gvk.GroupVersion(), gvk.Kind, name(obj))
		objects = append(objects, obj)
	}
	problems = append(problems, crossChecks(objects)...)
	if len(objects) == 0 {
		problems = append(problems, "no documents")
	}
	if len(problems) > 0 {
		for _, p := range problems {
			fmt.Fprintf(os.Stderr, "FAIL %s\n", p)
		}
		os.Exit(1)
	}
	fmt.Printf("k8s-check: %d documents valid\n", len(objects))
}

func crossChecks(objects []runtime.Object) []string {
	var problems []string
	deployments := map[string]*appsv1.Deployment{}
	var pods []map[string]string
	for _, o := range objects {
		var spec *corev1.PodSpec
		var where string
		switch v := o.(type) {
		case *appsv1.Deployment:
			deployments[v.Name] = v
			where = "Deployment " + v.Name
			spec = &v.Spec.Template.Spec
			pods = append(pods, v.Spec.Template.Labels)
			selector := labels.SelectorFromSet(v.Spec.Selector.MatchLabels)
			if v.Spec.Selector == nil || !selector.Matches(labels.Set(v.Spec.Template.Labels)) {
				problems = append(problems, where+": selector does not match the pod template's labels")
			}
		case *batchv1.Job:
			where = "Job " + v.Name
			spec = &v.Spec.Template.Spec
		}
		if spec != nil {
			problems = append(problems, podChecks(where, spec)...)
		}
	}
	for _, o := range objects {
		switch v := o.(type) {
		case *autoscalingv2.HorizontalPodAutoscaler:
			if _, ok := deployments[v.Spec.ScaleTargetRef.Name]; !ok || v.Spec.ScaleTargetRef.Kind != "Deployment" {
				problems = append(problems, "HorizontalPodAutoscaler "+v.Name+": scales no rendered Deployment")
			} else if d := deployments[v.Spec.ScaleTargetRef.Name]; d.Spec.Replicas != nil {
				problems = append(problems, "Deployment "+d.Name+": sets replicas although an HPA scales it")
			}
		case *policyv1.PodDisruptionBudget:
			if !selectsAny(v.Spec.Selector.MatchLabels, pods) {
				problems = append(problems, "PodDisruptionBudget "+v.Name+": selects no rendered pods")
			}
		case *corev1.Service:
			if !selectsAny(v.Spec.Selector, pods) {
				problems = append(problems, "Service "+v.Name+": selects no rendered pods")
			}
		}
	}
	return problems
}

// workerDrain is the worker's shutdownGraceTime (src/temporal/worker.ts): SIGTERM to exit.
const workerDrain = 20

func podChecks(where string, spec *corev1.PodSpec) []string {
	var problems []string
	for _, c := range spec.Containers {
		if strings.Contains(strings.Join(c.Command, " "), "worker.js") &&
			(spec.TerminationGracePeriodSeconds == nil || *spec.TerminationGracePeriodSeconds <= workerDrain) {
			problems = append(problems, fmt.Sprintf("%s: terminationGracePeriodSeconds must exceed the worker's %d s drain", where, workerDrain))
		}
		if c.Image == "" {
			problems = append(problems, fmt.Sprintf("%s container %s: no image", where, c.Name))
		}
		ports := map[string]bool{}
		for _, p := range c.Ports {
			ports[p.Name] = true
		}
		for kind, probe := range map[string]*corev1.Probe{"liveness": c.LivenessProbe, "readiness": c.ReadinessProbe, "startup": c.StartupProbe} {
			if probe != nil && probe.HTTPGet != nil && probe.HTTPGet.Port.StrVal != "" && !ports[probe.HTTPGet.Port.StrVal] {
				problems = append(problems, fmt.Sprintf("%s container %s: %s probe names port %q, which it does not declare", where, c.Name, kind, probe.HTTPGet.Port.StrVal))
			}
		}
		volumes := map[string]bool{}
		for _, v := range spec.Volumes {
			volumes[v.Name] = true
		}
		for _, m := range c.VolumeMounts {
			if !volumes[m.Name] {
				problems = append(problems, fmt.Sprintf("%s container %s: mounts undeclared volume %s", where, c.Name, m.Name))
			}
		}
	}
	return problems
}

func selectsAny(selector map[string]string, pods []map[string]string) bool {
	if len(selector) == 0 {
		return false
	}
	for _, l := range pods {
		if labels.SelectorFromSet(selector).Matches(labels.Set(l)) {
			return true
		}
	}
	return false
}

func name(obj runtime.Object) string {
	if m, ok := obj.(interface{ GetName() string }); ok {
		return m.GetName()
	}
	return "?"
}

// source is helm's "# Source: chart/templates/x.yaml" line, to name the template at fault.
func source(doc []byte) string {
	for _, line := range strings.Split(string(doc), "\n") {
		if strings.HasPrefix(line, "# Source: ") {
			return strings.TrimPrefix(line, "# Source: ")
		}
	}
	return "no source line"
}

func stripComments(doc []byte) []byte {
	var out []string
	for _, line := range strings.Split(string(doc), "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") {
			out = append(out, line)
		}
	}
	return []byte(strings.Join(out, "\n"))
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "k8s-check: "+format+"\n", args...)
	os.Exit(1)
}
