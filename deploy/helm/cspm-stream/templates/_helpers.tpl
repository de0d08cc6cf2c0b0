{{/* Chart name, fullname and labels. */}}
{{- define "cspm.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "cspm.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "cspm.labels" -}}
app.kubernetes.io/name: {{ include "cspm.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{- define "cspm.selector" -}}
app.kubernetes.io/name: {{ include "cspm.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "cspm.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) -}}
{{- end -}}

{{/* The app id (consumer groups are <app.id>.<stage>). */}}
{{- define "cspm.appId" -}}
{{- $app := default dict .Values.config.app -}}
{{- default "cspm-stream" $app.id -}}
{{- end -}}

{{/* Environment of a role's container: ctx = dict "root" $ "role" name. */}}
{{- define "cspm.env" -}}
- name: CSPM_CONFIG
  value: /etc/cspm/cspm.yaml
- name: CSPM_WEB_HOST
  value: "0.0.0.0"
- name: CSPM_WEB_PORT
  value: {{ .root.Values.web.port | quote }}
- name: CSPM_APP_DATA_DIR
  value: /var/lib/cspm
- name: CSPM_APP_LOG_FORMAT
  value: json
{{- range .root.Values.extraEnv }}
- name: {{ .name }}
  value: {{ .value | quote }}
{{- end }}
{{- range .root.Values.secretEnv }}
{{- if or (not .roles) (has $.role .roles) }}
- name: {{ required "secretEnv[].name is required" .name }}
  valueFrom:
    secretKeyRef:
      name: {{ required "secretEnv[].secretName: an existing Secret (the chart creates none)" .secretName }}
      key: {{ required "secretEnv[].key is required" .key }}
{{- end }}
{{- end }}
{{- end -}}

{{- define "cspm.volumeMounts" -}}
- name: config
  mountPath: /etc/cspm
  readOnly: true
- name: data
  mountPath: /var/lib/cspm
- name: tmp
  mountPath: /tmp
{{- end -}}

{{- define "cspm.volumes" -}}
- name: config
  configMap:
    name: {{ include "cspm.fullname" . }}-config
- name: data
  emptyDir:
    sizeLimit: 256Mi
- name: tmp
  emptyDir:
    sizeLimit: 64Mi
{{- end -}}

{{/*
No secret in plain values: the ConfigMap and the Deployment spec are readable by anyone who can
read the namespace. A config key naming a password, secret or token must be a `*_env` key (the
name of a variable, given through secretEnv); extraEnv must not carry one either.
*/}}
{{- define "cspm.noPlainSecrets" -}}
{{- $cfg := toYaml .Values.config -}}
{{- range (regexFindAll "(?mi)^\\s*[a-z0-9_]*(password|passwd|secret|token)[a-z0-9_]*\\s*:" $cfg -1) }}
{{- $key := trim (trimSuffix ":" (trim .)) -}}
{{- if not (hasSuffix "_env" $key) }}
{{- fail (printf "config: %s would put a secret in the ConfigMap (readable by anyone who reads the namespace): give it through secretEnv, as its CSPM_ variable or the variable a *_env key names" $key) }}
{{- end }}
{{- end }}
{{- range .Values.extraEnv }}
{{- if regexMatch "(?i)(password|passwd|secret|token)" (toString .name) }}
{{- fail (printf "extraEnv: %s looks like a secret; give it through secretEnv (a reference to an existing Secret)" (toString .name)) }}
{{- end }}
{{- end }}
{{- end -}}
