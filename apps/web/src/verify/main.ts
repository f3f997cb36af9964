/** The public verification page (/verify/): no login, no Element Plus; the checks run in this browser. */
import { createApp } from 'vue';
import VerifyApp from './VerifyApp.vue';
import './verify.css';

createApp(VerifyApp).mount('#verify');
