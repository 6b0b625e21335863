// Where a tenant's model versions and training checkpoints live in R2: under the tenant's own prefix.
export const modelKey = (tenant: string, version: number) => `classifier/${tenant}/v${version}/model`;
export const checkpointKey = (tenant: string, version: number) => `classifier/${tenant}/v${version}/checkpoint`;
