#!/usr/bin/env node
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ClvStack } from '../lib/clv-stack.js';
import { clvSettingsFromContext } from '../lib/context.js';

/** The CDK app: one stack, configured from context, checked by cdk-nag's AWS Solutions pack. */
export const app = new App();
const { stackName, props } = clvSettingsFromContext(app.node);
export const stack = new ClvStack(app, stackName, {
  ...props,
  // Environment-agnostic unless the CLI knows an account: `cdk synth` works offline.
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
