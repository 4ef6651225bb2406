// Backups: what the routes and the server hooks use. The folder holds one concern per file:
//   format.ts      what a backup file is (names, limits, refusals), pure
//   contents.ts    valibot schemas of the file's contents (encrypted header, payload)
//   codec.ts       encode and decode the bytes (gzip, passphrase encryption, bounded parse)
//   files.ts       the backups folder on this disk: list, read, write, delete, leftovers
//   catalogue.ts   the list of backups in the database, across instances
//   dump.ts        the database as a payload, and making a backup
//   retention.ts   keeping the newest N files
//   restore.ts     one transaction that replaces the backed-up tables
//   restore-form.ts  the restore form both pages share
//   schedule.ts    the schedule in "AppSettings" and the lock a scheduled run takes
//   cron.ts        what a schedule means (pure), scheduler.ts the in-process ticker
//   answers.ts     the actions' message texts and refusal shape
//   stopping.ts    a shutdown cancels the backup or restore in progress
export { refuse, say } from './answers';
export { deleteBackup, listBackups, readBackupFile, tidyBackupFolder } from './catalogue';
export { purgeDeletedBackups } from './catalogue';
export { backupDir } from './files';
export { BackupError, isBackupName } from './format';
export { restoreFromForm, RESTORE_FORM_MAX_BYTES } from './restore-form';
export { type Schedule } from '../../cron';
export { createManualBackup, getBackupSchedule, saveBackupSchedule } from './schedule';
export { startBackupScheduler, stopBackupScheduler } from './scheduler';
export { cancelBackupsOnShutdown } from './stopping';
