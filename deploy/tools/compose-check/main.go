// compose-check validates a Compose file offline the way `docker compose config` does: the Compose
// Specification's JSON schema (unknown keys are errors), interpolation, and the project model
// (depends_on targets, volumes, networks). Beyond the schema it checks what Herald's file promises:
// no auto-setup image, and every `service_completed_successfully` dependency is a one-shot service.
//
//	go run ./deploy/tools/compose-check docker-compose.yml
package main

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: compose-check FILE")
		os.Exit(2)
	}
	// Required variables (${VAR:?...}) get a placeholder, as an operator's environment would.
	env := []string{
		"HERALD_ADMIN_TOKEN=compose-check-placeholder-token",
		"HERALD_ENCRYPTION_KEY=Y29tcG9zZS1jaGVjay1wbGFjZWhvbGRlci1rZXkhISE=",
	}
	opts, err := cli.NewProjectOptions([]string{os.Args[1]}, cli.WithEnv(env), cli.WithName("herald"))
	if err == nil {
		var project *types.Project
		project, err = opts.LoadProject(context.Background())
		if err == nil {
			err = herald(project)
		}
		if err == nil {
			names := project.ServiceNames()
			sort.Strings(names)
			fmt.Printf("compose-check: %s is valid: %d services (%s)\n", os.Args[1], len(names), strings.Join(names, ", "))
			return
		}
	}
	fmt.Fprintf(os.Stderr, "compose-check: %s: %v\n", os.Args[1], err)
	os.Exit(1)
}

func herald(project *types.Project) error {
	for name, service := range project.Services {
		if strings.Contains(service.Image, "temporalio/auto-setup") {
			return fmt.Errorf("service %s: temporalio/auto-setup is for development only", name)
		}
		for dep, d := range service.DependsOn {
			if d.Condition == types.ServiceConditionCompletedSuccessfully && project.Services[dep].Restart != "no" {
				return fmt.Errorf("service %s waits for %s to complete, but %s restarts", name, dep, dep)
			}
		}
	}
	return nil
}
