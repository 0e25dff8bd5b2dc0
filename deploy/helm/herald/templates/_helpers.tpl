{{/* Names and labels shared by every template. */}}
{{- define "herald.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "herald.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* Selector labels of one component (api, worker, migration). */}}
{{- define "herald.selector" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "herald.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{- define "herald.secretName" -}}
{{ .Values.existingSecret | default (printf "%s-secrets" (include "herald.fullname" .)) }}
{{- end -}}

{{/* Pod-level settings every Herald pod shares: non-root, no service account token. */}}
{{- define "herald.podSecurity" -}}
automountServiceAccountToken: false
securityContext:
  runAsNonRoot: true
  runAsUser: 1000
  runAsGroup: 1000
  fsGroup: 1000
  seccompProfile:
    type: RuntimeDefault
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{- define "herald.containerSecurity" -}}
securityContext:
  allowPrivilegeEscalation: false
  readOnlyRootFilesystem: true
  capabilities:
    drop: ["ALL"]
{{- end -}}

{{/*
The environment of every Herald container: the ConfigMap (settings), the Secret (DATABASE_URL,
HERALD_ADMIN_TOKEN, HERALD_ENCRYPTION_KEY, TEMPORAL_API_KEY), and the certificate paths where they are mounted.
*/}}
{{- define "herald.env" -}}
envFrom:
  - configMapRef:
      name: {{ include "herald.fullname" . }}-config
  - secretRef:
      name: {{ include "herald.secretName" . }}
{{- end -}}

{{- define "herald.volumeMounts" -}}
volumeMounts:
  - name: tmp
    mountPath: /tmp
{{- if .Values.temporal.tls.existingSecret }}
  - name: temporal-tls
    mountPath: /etc/herald/temporal-tls
    readOnly: true
{{- end }}
{{- if .Values.postgres.caSecret }}
  - name: postgres-ca
    mountPath: /etc/herald/postgres-ca
    readOnly: true
{{- end }}
{{- end -}}

{{- define "herald.volumes" -}}
volumes:
  # HERALD_DATA_DIR and Node's temp files: the root filesystem is read-only.
  - name: tmp
    emptyDir: {}
{{- if .Values.temporal.tls.existingSecret }}
  - name: temporal-tls
    secret:
      secretName: {{ .Values.temporal.tls.existingSecret }}
      defaultMode: 0440
{{- end }}
{{- if .Values.postgres.caSecret }}
  - name: postgres-ca
    secret:
      secretName: {{ .Values.postgres.caSecret }}
      defaultMode: 0440
{{- end }}
{{- end -}}

{{/* Rolls the pods when the settings or the chart-managed secrets change. */}}
{{- define "herald.checksums" -}}
checksum/config: {{ include (print .Template.BasePath "/configmap.yaml") . | sha256sum }}
checksum/secret: {{ include (print .Template.BasePath "/secret.yaml") . | sha256sum }}
{{- end -}}
