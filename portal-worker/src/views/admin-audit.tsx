import { Layout } from './layout.tsx';
import type { UserPageContext } from './page.ts';

type AdminPage = { page: UserPageContext };

export function AuditPage(props: AdminPage & { entries: { id: number; at: number; actor: string | null; action: string; target: string }[] }) {
  return (
    <Layout page={props.page} title="Audit log" wide>
      <h1>Audit log</h1>
      <table>
        <thead>
          <tr>
            <th>When (UTC)</th>
            <th>Who</th>
            <th>What</th>
            <th>Target</th>
          </tr>
        </thead>
        <tbody>
          {props.entries.map((e) => (
            <tr>
              <td>{new Date(e.at).toISOString()}</td>
              <td>{e.actor ?? 'system'}</td>
              <td>{e.action}</td>
              <td>{e.target}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Layout>
  );
}
