/** Full names of the services (`package.Service`), as health checks name them, read from the generated definitions. */
import { HealthService } from '../../gen/grpc/health/v1/health';
import { StoreServiceService } from '../../gen/agntcy/dir/store/v1/store_service';
import { SyncServiceService } from '../../gen/agntcy/dir/store/v1/sync_service';

/** `/agntcy.dir.store.v1.StoreService/Push` → `agntcy.dir.store.v1.StoreService`. */
function serviceOf(methodPath: string): string {
  return methodPath.slice(1, methodPath.lastIndexOf('/'));
}

export const STORE_SERVICE = serviceOf(StoreServiceService.push.path);
export const SYNC_SERVICE = serviceOf(SyncServiceService.createSync.path);
export const HEALTH_SERVICE = serviceOf(HealthService.check.path);
