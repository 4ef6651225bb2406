// Every table's contents, as one digest per table: two snapshots are equal only when no row was
// inserted, changed or deleted anywhere in between. For tests of "this request writes nothing".
import type postgres from 'postgres';

export async function snapshotTables(sql: postgres.Sql): Promise<Record<string, string>> {
	const tables = await sql<{ name: string }[]>`
		select table_name as name from information_schema.tables
		where table_schema = current_schema() and table_type = 'BASE TABLE'
		order by table_name
	`;
	const out: Record<string, string> = {};
	for (const { name } of tables) {
		const [{ digest }] = await sql<{ digest: string }[]>`
			select count(*) || ':' || coalesce(md5(string_agg(t::text, ',' order by t::text)), '')
				as digest
			from ${sql(name)} t
		`;
		out[name] = digest;
	}
	return out;
}
