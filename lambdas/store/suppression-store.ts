/**
 * Port: where maintenance windows and silences are kept, with what each has
 * announced. Single-item conditional writes only (dynalite has no
 * transactions): every write names the version it read, and loses to any
 * write in between.
 */
import type { MaintenanceWindow, Silence } from '../core/maintenance';
import type { SaveOutcome } from './state-store';

/** A window as stored: the phases it announced (`phaseKey`s) and the item's version. */
export interface StoredWindow {
  readonly window: MaintenanceWindow;
  readonly announced: readonly string[];
  readonly version: number;
}

/** A silence as stored. */
export interface StoredSilence {
  readonly silence: Silence;
  readonly announced: readonly string[];
  readonly version: number;
}

export interface SuppressionStore {
  /** Every window kept (settled ones until they expire from the table), by id. */
  listWindows(): Promise<StoredWindow[]>;
  getWindow(id: string): Promise<StoredWindow | null>;
  /** Writes the window if its stored version is still `expectedVersion` (null: it must not exist yet). */
  saveWindow(
    window: MaintenanceWindow,
    announced: readonly string[],
    expectedVersion: number | null,
  ): Promise<SaveOutcome>;
  listSilences(): Promise<StoredSilence[]>;
  getSilence(id: string): Promise<StoredSilence | null>;
  saveSilence(
    silence: Silence,
    announced: readonly string[],
    expectedVersion: number | null,
  ): Promise<SaveOutcome>;
}
